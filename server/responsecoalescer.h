#pragma once

// cpp-httplib writes a response's head and body with two SSL_write calls, so each response left
// as two TCP segments: two write system calls, and on loopback the whole receive path of the
// peer twice, all charged to the serving core. A filter BIO between the TLS connection and its
// socket holds the encrypted output from the moment the handler has answered until the
// response is written, then sends it with one write. Outside that window it passes everything
// straight through, so the handshake, 100-continue, cpp-httplib's own error answers and the
// closing alert are never delayed.

#include <openssl/ssl.h>

namespace vigil::server {

// Starts holding what this connection writes; on its first call for a connection, puts the
// buffer between the connection and its socket. Should OpenSSL fail to make the buffer, writes
// go straight out, as before.
void holdResponse(SSL *ssl);

// Sends what was held since holdResponse with one write and stops holding. When the socket
// refuses it (the peer went away, or stopped reading past the send timeout), the socket is shut
// down, so that cpp-httplib's next read fails and it closes the connection, as it does after
// any failed write.
void releaseResponse(const SSL *ssl);

} // namespace vigil::server
