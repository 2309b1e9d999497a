#include "responsecoalescer.h"

#include <algorithm>
#include <climits>
#include <new>
#include <openssl/bio.h>
#include <string>
#include <sys/socket.h>

namespace vigil::server {

namespace {

struct HeldOutput
{
    bool holding = false;
    std::string bytes;
};

HeldOutput *heldOutput(BIO *bio)
{
    return static_cast<HeldOutput *>(BIO_get_data(bio));
}

// Writes what is held to the socket BIO below. The socket is blocking once the handshake is
// done (cpp-httplib makes it so), and a held response is a few kilobytes, so this is one write.
bool sendHeld(BIO *bio, HeldOutput &held)
{
    BIO *next = BIO_next(bio);
    std::size_t sent = 0;
    while (sent < held.bytes.size()) {
        const int chunk =
            static_cast<int>(std::min<std::size_t>(held.bytes.size() - sent, INT_MAX));
        const int written = BIO_write(next, held.bytes.data() + sent, chunk);
        if (written <= 0) {
            held.bytes.clear();
            return false;
        }
        sent += static_cast<std::size_t>(written);
    }
    held.bytes.clear();
    return true;
}

int coalescerWrite(BIO *bio, const char *data, int length)
{
    HeldOutput *held = heldOutput(bio);
    BIO *next = BIO_next(bio);
    if (held == nullptr || next == nullptr || length < 0)
        return -1;
    BIO_clear_retry_flags(bio);
    if (held->holding) {
        held->bytes.append(data, static_cast<std::size_t>(length));
        return length;
    }
    const int written = BIO_write(next, data, length);
    BIO_copy_next_retry(bio);
    return written;
}

long coalescerCtrl(BIO *bio, int command, long number, void *pointer)
{
    BIO *next = BIO_next(bio);
    HeldOutput *held = heldOutput(bio);
    switch (command) {
    case BIO_CTRL_FLUSH:
        // Whoever flushes wants the bytes on the wire now, holding or not.
        if (held != nullptr && !held->bytes.empty() && !sendHeld(bio, *held))
            return 0;
        break;
    case BIO_CTRL_WPENDING: {
        const long below = next != nullptr ? BIO_ctrl(next, command, number, pointer) : 0;
        return (held != nullptr ? static_cast<long>(held->bytes.size()) : 0) + below;
    }
    case BIO_CTRL_DUP:
        return 0; // a connection's held bytes are its own
    default:
        break;
    }
    return next != nullptr ? BIO_ctrl(next, command, number, pointer) : 0;
}

int coalescerCreate(BIO *bio)
{
    auto *held = new (std::nothrow) HeldOutput;
    if (held == nullptr)
        return 0;
    BIO_set_data(bio, held);
    BIO_set_init(bio, 1);
    return 1;
}

int coalescerDestroy(BIO *bio)
{
    delete heldOutput(bio);
    BIO_set_data(bio, nullptr);
    return 1;
}

struct CoalescerMethod
{
    int type = 0;
    BIO_METHOD *method = nullptr;
};

// One method for the process, made on first use (thread-safe static initialisation).
const CoalescerMethod &coalescerMethod()
{
    static const CoalescerMethod made = [] {
        CoalescerMethod m;
        const int index = BIO_get_new_index();
        if (index == -1)
            return m;
        m.type = index | BIO_TYPE_FILTER;
        m.method = BIO_meth_new(m.type, "vigil response coalescer");
        if (m.method != nullptr && (BIO_meth_set_write(m.method, coalescerWrite) != 1 ||
                                    BIO_meth_set_ctrl(m.method, coalescerCtrl) != 1 ||
                                    BIO_meth_set_create(m.method, coalescerCreate) != 1 ||
                                    BIO_meth_set_destroy(m.method, coalescerDestroy) != 1)) {
            BIO_meth_free(m.method);
            m.method = nullptr;
        }
        return m;
    }();
    return made;
}

} // namespace

void holdResponse(SSL *ssl)
{
    const CoalescerMethod &coalescer = coalescerMethod();
    BIO *wbio = SSL_get_wbio(ssl);
    if (coalescer.method == nullptr || wbio == nullptr)
        return;
    if (BIO_method_type(wbio) != coalescer.type) {
        BIO *filter = BIO_new(coalescer.method);
        if (filter == nullptr)
            return;
        // The socket BIO is the connection's read side too: the filter's chain takes a
        // reference of its own, and SSL_set0_wbio gives up the one it held as the write side.
        if (BIO_up_ref(wbio) != 1) {
            BIO_free(filter);
            return;
        }
        BIO_push(filter, wbio);
        SSL_set0_wbio(ssl, filter);
        wbio = filter;
    }
    heldOutput(wbio)->holding = true;
}

void releaseResponse(const SSL *ssl)
{
    BIO *wbio = SSL_get_wbio(ssl);
    if (wbio == nullptr || BIO_method_type(wbio) != coalescerMethod().type)
        return;
    heldOutput(wbio)->holding = false;
    if (BIO_flush(wbio) == 1)
        return;
    // cpp-httplib was told the response was written; the connection must not wait for another
    // request with a cut-off record on the wire. Shutting the socket down makes its next read
    // fail, and cpp-httplib closes the connection.
    if (const int socket = SSL_get_wfd(ssl); socket >= 0)
        ::shutdown(socket, SHUT_RDWR);
}

} // namespace vigil::server
