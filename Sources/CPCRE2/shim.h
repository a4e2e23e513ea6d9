// PCRE2, 8-bit code units (UTF-8), for user-supplied patterns: `regex` processor and custom
// redaction detectors. The generic names (`pcre2_compile`) are macros; Swift calls the `_8` ones.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
