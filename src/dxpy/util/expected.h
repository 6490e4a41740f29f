#pragma once
/// Expected<T>: a value or an Error, for failures that are expected (I/O, parse, corrupt
/// data, dead worker). Bugs use DXPY_CHECK, which aborts.
///
/// std::expected is C++23 and no Debian 12 or PyPI package ships tl::expected, so this is
/// the small subset we use, with std::expected's names: swap it for an alias on C++23.

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <variant>

namespace dxpy {

enum class Errc { kIo, kParse, kCorrupt, kTruncated, kVersion, kLimit, kUsage, kNotFound, kInternal };

struct Error {
  Errc code = Errc::kInternal;
  std::string message;
};

template <class E>
struct Unexpected {
  E error;
};

inline Unexpected<Error> make_error(Errc code, std::string message) {
  return {Error{code, std::move(message)}};
}

template <class T>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit like std::expected
  Expected(Unexpected<Error> e) : v_(std::in_place_index<1>, std::move(e.error)) {}  // NOLINT

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Expected<void> {
 public:
  Expected() = default;
  Expected(Unexpected<Error> e) : err_(std::move(e.error)), ok_(false) {}  // NOLINT
  bool has_value() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return err_; }

 private:
  Error err_;
  bool ok_ = true;
};

[[noreturn]] inline void check_failed(const char* expr, const char* file, int line) {
  std::fprintf(stderr, "dx-py: internal error: check failed: %s at %s:%d\n", expr, file, line);
  std::abort();
}

}  // namespace dxpy

#define DXPY_CONCAT_(a, b) a##b
#define DXPY_CONCAT(a, b) DXPY_CONCAT_(a, b)

/// DXPY_TRY(auto x, expr): on error returns it from the enclosing function, else binds x.
#define DXPY_TRY(decl, expr)                                              \
  auto DXPY_CONCAT(dxpy_try_, __LINE__) = (expr);                         \
  if (!DXPY_CONCAT(dxpy_try_, __LINE__))                                  \
    return ::dxpy::Unexpected<::dxpy::Error>{DXPY_CONCAT(dxpy_try_, __LINE__).error()}; \
  decl = std::move(*DXPY_CONCAT(dxpy_try_, __LINE__))

/// DXPY_TRY_VOID(expr): for Expected<void>.
#define DXPY_TRY_VOID(expr)                                               \
  do {                                                                    \
    auto dxpy_try_v_ = (expr);                                            \
    if (!dxpy_try_v_) return ::dxpy::Unexpected<::dxpy::Error>{dxpy_try_v_.error()}; \
  } while (0)

#define DXPY_CHECK(cond) \
  ((cond) ? (void)0 : ::dxpy::check_failed(#cond, __FILE__, __LINE__))
