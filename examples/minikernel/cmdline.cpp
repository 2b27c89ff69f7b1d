#include "cmdline.hpp"

namespace mk {

bool str_equal(const char* a, const char* b) noexcept
{
    while (*a != '\0' && *a == *b) {
        ++a;
        ++b;
    }
    return *a == *b;
}

void Cmdline::parse(const char* text) noexcept
{
    size_t len = 0;
    while (text[len] != '\0' && len < max_len - 1) {
        original_[len] = text[len];
        words_[len] = text[len];
        ++len;
    }
    original_[len] = words_[len] = '\0';

    // Cut the copy in place: spaces and the first '=' of a word become NULs.
    static constexpr char empty[] = "";
    count_ = 0;
    char* p = words_;
    while (count_ < max_words) {
        while (*p == ' ')
            *p++ = '\0';
        if (*p == '\0')
            break;
        keys_[count_] = p;
        values_[count_] = empty;
        for (; *p != '\0' && *p != ' '; ++p) {
            if (*p == '=' && values_[count_] == empty) {
                *p = '\0';
                values_[count_] = p + 1;
            }
        }
        if (*p == ' ')
            *p++ = '\0';
        ++count_;
    }
}

const char* Cmdline::get(const char* key) const noexcept
{
    for (size_t i = count_; i-- > 0;)
        if (str_equal(keys_[i], key))
            return values_[i];
    return nullptr;
}

uint64_t Cmdline::get_uint(const char* key, uint64_t fallback) const noexcept
{
    const char* v = get(key);
    if (v == nullptr || *v == '\0')
        return fallback;
    uint64_t n = 0;
    for (; *v != '\0'; ++v) {
        if (*v < '0' || *v > '9')
            return fallback;
        n = n * 10 + static_cast<uint64_t>(*v - '0');
    }
    return n;
}

bool list_contains(const char* list, const char* name) noexcept
{
    while (*list != '\0') {
        const char* n = name;
        while (*n != '\0' && *list == *n) {
            ++list;
            ++n;
        }
        if (*n == '\0' && (*list == ',' || *list == '\0'))
            return true;
        while (*list != ',' && *list != '\0')
            ++list;
        if (*list == ',')
            ++list;
    }
    return false;
}

} // namespace mk
