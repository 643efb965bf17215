// A small, strict JSON reader (RFC 8259) for smartctl --json output: text in, a tree of
// values out, or an error naming the byte offset. Bounded: nesting depth and input size are
// limited so a hostile or corrupt file cannot exhaust the stack or memory.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace foreshock::smart {

// A JSON value. Numbers keep their source text so that 64-bit integers stay exact.
// Thread-safety: an immutable value after parsing; safe to read from any thread.
class JsonValue {
 public:
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };

  Type type() const { return type_; }
  bool isNull() const { return type_ == Type::kNull; }
  bool isObject() const { return type_ == Type::kObject; }
  bool isArray() const { return type_ == Type::kArray; }
  bool isNumber() const { return type_ == Type::kNumber; }
  bool isString() const { return type_ == Type::kString; }
  bool isBool() const { return type_ == Type::kBool; }

  // Object member, or nullptr when this is not an object or the key is absent.
  const JsonValue* get(std::string_view key) const;
  // get("a")->get("b")... for a path of keys; nullptr when any step is missing.
  const JsonValue* path(std::initializer_list<std::string_view> keys) const;
  const std::vector<JsonValue>& items() const { return array_; }  // empty unless an array
  const std::vector<std::pair<std::string, JsonValue>>& members() const { return object_; }

  // Typed views; nullopt on a type mismatch (or, for integers, a fraction/out of range).
  std::optional<bool> asBool() const;
  std::optional<double> asDouble() const;
  std::optional<std::int64_t> asInt() const;
  std::optional<std::uint64_t> asUint() const;
  std::optional<std::string> asString() const;

 private:
  friend class JsonParser;
  Type type_ = Type::kNull;
  bool bool_ = false;
  std::string text_;  // string contents, or the number's source text
  std::vector<JsonValue> array_;
  std::vector<std::pair<std::string, JsonValue>> object_;
};

inline constexpr std::size_t kJsonMaxDepth = 64;
inline constexpr std::size_t kJsonMaxBytes = 16 << 20;

// Parses one JSON document (surrounding whitespace allowed, nothing else after it).
// Errors read "JSON: <problem> at byte N".
Result<JsonValue> parseJson(std::string_view text);

}  // namespace foreshock::smart
