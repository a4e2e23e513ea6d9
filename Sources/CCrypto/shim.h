// OpenSSL's libcrypto (libssl-dev), for the keyed HMAC-SHA256 of the redaction `hash` mode.
#include <openssl/hmac.h>
#include <openssl/evp.h>
