"""Media work (PyAV and Pillow): provider files, stills, re-encodes and reference images, in
bounded child processes. No Discord."""
