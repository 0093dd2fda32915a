// Optional fields of untrusted JSON (config.json and friends) read without
// exceptions: nlohmann's value() and get() throw when a key holds another
// type, and a function that returns a Status must not. A missing key, null,
// or a value of another type gives the fallback; callers that need the value
// check it and return an error naming the key.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>

#include "nlohmann/json.hpp"

namespace gemma3n {

// Whether the number `v` has a value T can hold: a cast of a float outside
// an integer type's range is undefined behaviour (1e20 as an int), and an
// integer outside it would silently wrap.
template <typename T>
bool FitsIn(const nlohmann::json& v) {
  if constexpr (std::is_floating_point_v<T>) {
    return true;  // out of range becomes inf, as a float would say it
  } else if (v.is_number_unsigned()) {
    return v.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<T>::max());
  } else if (v.is_number_integer()) {
    const int64_t i = v.get<int64_t>();
    return i >= static_cast<int64_t>(std::numeric_limits<T>::min()) &&
           (i < 0 || static_cast<uint64_t>(i) <= static_cast<uint64_t>(std::numeric_limits<T>::max()));
  } else {
    // max + 1 is a power of two, exact as a double; max itself is not for
    // 64 bits (it rounds up to 2^63, whose cast is undefined), so `<` it.
    const double d = v.get<double>();  // NaN fails both comparisons
    return d >= static_cast<double>(std::numeric_limits<T>::min()) &&
           d < static_cast<double>(std::numeric_limits<T>::max() / 2 + 1) * 2.0;
  }
}

// A number (or, for bool, a boolean) at `key` of object `j`; a number T
// cannot hold (FitsIn) gives the fallback too.
template <typename T>
T FieldOr(const nlohmann::json& j, const std::string& key, T fallback) {
  if (!j.is_object()) return fallback;
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if constexpr (std::is_same_v<T, bool>) {
    return it->is_boolean() ? it->template get<bool>() : fallback;
  } else if constexpr (std::is_same_v<T, std::string>) {
    return it->is_string() ? it->template get<std::string>() : fallback;
  } else {
    return it->is_number() && FitsIn<T>(*it) ? it->template get<T>() : fallback;
  }
}

inline std::string StringFieldOr(const nlohmann::json& j, const std::string& key, const std::string& fallback) {
  return FieldOr<std::string>(j, key, fallback);
}

// The object at `key`, or null when it is missing or not an object.
inline const nlohmann::json* ObjectField(const nlohmann::json& j, const std::string& key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it != j.end() && it->is_object() ? &*it : nullptr;
}

}  // namespace gemma3n
