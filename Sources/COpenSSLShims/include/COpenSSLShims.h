// Function-like OpenSSL macros and SSL_OP_* constants that the Swift importer cannot see,
// re-exported as static inline functions and constants. Nothing here adds behaviour.
#ifndef VERITY_COPENSSL_SHIMS_H
#define VERITY_COPENSSL_SHIMS_H

#include <openssl/bio.h>
#include <openssl/params.h>
#include <openssl/ssl.h>

static const uint64_t verity_SSL_OP_NO_COMPRESSION = SSL_OP_NO_COMPRESSION;
static const uint64_t verity_SSL_OP_NO_RENEGOTIATION = SSL_OP_NO_RENEGOTIATION;
static const uint64_t verity_SSL_OP_CIPHER_SERVER_PREFERENCE = SSL_OP_CIPHER_SERVER_PREFERENCE;
static const uint64_t verity_SSL_OP_NO_TICKET = SSL_OP_NO_TICKET;

static inline int verity_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_min_proto_version(ctx, version);
}

static inline int verity_SSL_CTX_get_min_proto_version(SSL_CTX *ctx) {
    return (int)SSL_CTX_get_min_proto_version(ctx);
}

static inline int verity_SSL_CTX_set_max_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_max_proto_version(ctx, version);
}

static inline long verity_SSL_CTX_set_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_mode(ctx, mode);
}

static inline int verity_SSL_CTX_set1_groups_list(SSL_CTX *ctx, const char *list) {
    return (int)SSL_CTX_set1_groups_list(ctx, list);
}

static inline int verity_SSL_set_tlsext_host_name(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, name);
}

static inline long verity_SSL_CTX_set_session_cache_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_session_cache_mode(ctx, mode);
}

static const long verity_SSL_SESS_CACHE_OFF = SSL_SESS_CACHE_OFF;

static inline size_t verity_BIO_pending(BIO *bio) {
    return (size_t)BIO_pending(bio);
}

static inline OSSL_PARAM verity_OSSL_PARAM_END(void) {
    OSSL_PARAM end = OSSL_PARAM_END;
    return end;
}

#endif
