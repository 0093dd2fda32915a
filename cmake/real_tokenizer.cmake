# GEMMA3N_REAL_TOKENIZER: where scripts/fetch_tokenizer.sh puts the real
# Gemma tokenizer.json, for the tests and the fuzz targets.
if(DEFINED ENV{XDG_CACHE_HOME})
  set(_cache_home $ENV{XDG_CACHE_HOME})
else()
  set(_cache_home $ENV{HOME}/.cache)
endif()
set(GEMMA3N_REAL_TOKENIZER ${_cache_home}/gemma3n-grpc/tokenizer-gemma3/tokenizer.json
    CACHE FILEPATH "The real Gemma tokenizer.json (scripts/fetch_tokenizer.sh puts it here)")
