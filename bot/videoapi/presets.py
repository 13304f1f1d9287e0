"""What each server that speaks the contract is known to take and to lack (`PROVIDER=`).

Each preset is the profile a new deployment of that server starts from; every list can still be
overridden in the settings. What a preset says is missing is refused at once and left off cards;
`videobot check` compares it with what the server really answers. Sources: the servers' public
code (named per entry) and, for LiteLLM, the real proxy run by `make test`.
"""

from __future__ import annotations

from typing import Final, Literal

from bot.videoapi.models import Operation
from bot.videoapi.profile import ProviderProfile

PresetName = Literal["openai", "generic", "litellm", "vllm-omni", "sglang", "aquiles", "openrouter"]

# Self-hosted open-model servers serve create, list, retrieve, delete and content only.
_GENERATION_ONLY: Final = frozenset(
    {
        Operation.EDIT,
        Operation.EXTEND,
        Operation.REMIX,
        Operation.CREATE_CHARACTER,
        Operation.GET_CHARACTER,
    }
)

_SELF_HOSTED_RPM: Final = 600.0

PRESETS: Final[dict[PresetName, ProviderProfile]] = {
    # The contract as OpenAI wrote it.
    "openai": ProviderProfile(),
    # Any other server: the contract's lists; what it lacks is learned from its answers.
    "generic": ProviderProfile(),
    # litellm/proxy/video_endpoints/endpoints.py (1.108.7): no DELETE route (405); GET /videos
    # answers 400 without a provider, and ignores `limit` when it works, so jobs are retrieved.
    # Behind it, each upstream transformation refuses some operations before sending anything
    # (llms/*/videos/transformation.py raise NotImplementedError; the proxy answers 500 "video
    # remix is not supported for fal.ai"): gemini/ remix, edit, extend and characters; fal_ai/
    # remix, edit, extend and characters; runwayml/ remix, edit, extend and characters. openai/
    # serves them all, and one proxy may front several, so they are not listed here: the client
    # learns each from its first such 500 (capabilities.says_unsupported), which made nothing.
    "litellm": ProviderProfile(
        body="json",
        missing=frozenset({Operation.DELETE, Operation.LIST}),
        # Every job is one retrieve there; the proxy's own limit is the deployment's to set.
        requests_per_minute=120.0,
    ),
    # vllm_omni/entrypoints/openai/api_server.py: create reads Form fields only, and a JSON
    # body gets a 400 (not a 415), so `auto` could not find out by itself.
    # A self-hosted server has no request quota; status calls only cost it a little CPU.
    "vllm-omni": ProviderProfile(
        body="multipart", missing=_GENERATION_ONLY, requests_per_minute=_SELF_HOSTED_RPM
    ),
    # python/sglang/multimodal_gen/runtime/entrypoints/openai/video_api.py: JSON or multipart.
    "sglang": ProviderProfile(missing=_GENERATION_ONLY, requests_per_minute=_SELF_HOSTED_RPM),
    # aquilesimage/main.py and models/models.py: JSON with string seconds, four sizes, its own
    # model names (the one it was started with must come first: PROVIDER_MODELS).
    "aquiles": ProviderProfile(
        models=(
            "wan2.2",
            "wan2.2-turbo",
            "wan2.1",
            "wan2.1-turbo",
            "hunyuanVideo-1.5-720p",
            "hunyuanVideo-1.5-480p",
            "ltx-2",
            "ltx-2.3",
        ),
        price_per_second={},
        body="json",
        missing=_GENERATION_ONLY,
        requests_per_minute=_SELF_HOSTED_RPM,
    ),
    # OpenRouter's own API (bot/videoapi/openrouter/): no list, delete or characters; remix,
    # edit and extend go as `previous_job_id`. Its catalogue (/videos/models, read at start and
    # hourly) replaces these models, seconds, sizes and prices; they serve until it arrives.
    "openrouter": ProviderProfile(
        models=("google/veo-3.1-fast",),
        sizes=("1280x720", "720x1280"),
        seconds=("4", "6", "8"),
        extend_seconds=("4", "6", "8"),
        price_per_second={"google/veo-3.1-fast": 0.10},
        body="json",
        missing=frozenset(
            {
                Operation.LIST,
                Operation.DELETE,
                Operation.CREATE_CHARACTER,
                Operation.GET_CHARACTER,
            }
        ),
        requests_per_minute=60.0,
    ),
}


def preset(name: PresetName) -> ProviderProfile:
    return PRESETS[name]


def overridden(name: PresetName, **fields: object) -> ProviderProfile:
    """The preset's profile with each field given a value (None: the preset's own) in its place,
    validated as a whole; the settings and the providers file both build a profile this way."""
    unknown = fields.keys() - ProviderProfile.model_fields.keys()
    if unknown:
        raise TypeError(f"not a profile field: {', '.join(sorted(unknown))}")
    chosen = {field: value for field, value in fields.items() if value is not None}
    return ProviderProfile.model_validate(PRESETS[name].model_dump() | chosen)
