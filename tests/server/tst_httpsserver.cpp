// HttpsServer on its own, with a trivial handler: TLS versions (against the openssl CLI), the
// body limit, keep-alive, the read timeout against a client that stalls mid-request, handler
// failures, and the constructor's errors.
#include "httpsclient.h"
#include "independentpython.h"
#include "rawtlsconnection.h"
#include "server/admin/datadirectory.h"
#include "server/http/httpsserver.h"
#include "server/tls/tlscredentials.h"

#include <QElapsedTimer>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>
#include <QtTest>
#include <arpa/inet.h>
#include <atomic>
#include <cstring>
#include <fstream>
#include <mutex>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <thread>
#include <unistd.h>

using namespace vigil::server;
using vigil::test::HttpsClient;
using vigil::test::RawTlsConnection;
using vigil::test::thrownMessage;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// The handler every server here runs: it echoes what it was given, and fails on request.
HttpResponse echo(const HttpRequest &request)
{
    if (request.path == "/throw")
        throw std::runtime_error("handler secret 1234 went wrong");
    if (request.path == "/throw-other")
        throw 42;
    HttpResponse response;
    response.body = json{{"method", request.method},
                         {"path", request.path},
                         {"body_bytes", request.body.size()},
                         {"peer", request.peerAddress},
                         {"dpop_repeated", request.headers.contains("dpop:repeated")}}
                        .dump();
    response.headers.emplace_back("X-Echo", "1");
    return response;
}

// A server serving on its own thread until the end of the scope.
class RunningServer
{
public:
    RunningServer(const HttpsServerOptions &options, RequestHandler handler = echo)
        : m_server(options, std::move(handler)), m_thread([this] { m_served = m_server.serve(); })
    {
    }
    ~RunningServer()
    {
        m_server.stop();
        m_thread.join();
    }
    int port() const { return m_server.port(); }
    HttpsServer &server() { return m_server; }
    std::string url(const std::string &path) const
    {
        return "https://127.0.0.1:" + std::to_string(port()) + path;
    }

private:
    HttpsServer m_server;
    std::atomic<bool> m_served{false};
    std::thread m_thread;
};

struct ProcessResult
{
    int exitCode = -1;
    QByteArray output; // stdout and stderr
};

ProcessResult runOpenSsl(const QStringList &arguments)
{
    QProcess process;
    process.setProcessChannelMode(QProcess::MergedChannels);
    process.start(QStringLiteral("openssl"), arguments);
    process.closeWriteChannel();
    if (!process.waitForFinished(20000)) {
        process.kill();
        process.waitForFinished();
        return {-1, "openssl did not finish within 20 s"};
    }
    return {process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1,
            process.readAll()};
}

// A TCP connection to the loopback port whose reads give up after `patience`, so that a
// server that never disconnects fails the test instead of hanging it.
int connectTcp(int port, std::chrono::seconds patience)
{
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    timeval timeout{};
    timeout.tv_sec = static_cast<time_t>(patience.count());
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr *>(&address), sizeof address) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

// Python's ssl module opens `count` TLS connections and holds them idle until its stdin
// closes. One full handshake; the rest resume its session, so the hour is spent holding
// connections, not signing. Prints "ready N".
const char *idleClients = R"(
import resource, socket, ssl, sys
port, ca, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
context = ssl.create_default_context(cafile=ca)
first = context.wrap_socket(socket.create_connection(('127.0.0.1', port)),
                            server_hostname='127.0.0.1')
first.sendall(b'GET /first HTTP/1.1\r\nHost: x\r\n\r\n')
first.recv(65536)
held = [first]
while len(held) < count:
    raw = socket.create_connection(('127.0.0.1', port))
    held.append(context.wrap_socket(raw, server_hostname='127.0.0.1', session=first.session))
print('ready', len(held), flush=True)
sys.stdin.read()
)";

// The echo handler, counting the requests that reach it.
RequestHandler counting(std::atomic<int> &handled)
{
    return [&handled](const HttpRequest &request) {
        ++handled;
        return echo(request);
    };
}

// This process's resident memory (the servers under test run in it).
long residentKilobytes()
{
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmRSS:", 0) == 0)
            return std::stol(line.substr(6));
    return 0;
}

} // namespace

class TestHttpsServer : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_data = fs::path(m_dir.path().toStdString()) / "verifier";
        DataDirectory::initialise(m_data, {"127.0.0.1", "localhost"},
                                  std::chrono::system_clock::now());
        m_options.port = 0;
        m_certificateFile = m_data / DataDirectory::tlsCertificateName;
        m_options.credentials =
            TlsCredentials::load(m_certificateFile, m_data / DataDirectory::tlsKeyName);
        m_options.threads = 4;
        m_caFile = m_data / DataDirectory::caCertificateName;
    }

    void servesTheHandlersResponseOverHttps()
    {
        RunningServer server(m_options);
        HttpsClient client(m_caFile);
        const auto response =
            client.postJson(server.url("/some/path?query=1"), R"({"a":1})", {"DPoP: x"});
        QCOMPARE(response.status, 200L);
        QCOMPARE(response.contentType, std::string("application/json"));
        QCOMPARE(response.headers.at("x-echo"), std::string("1"));
        const json body = json::parse(response.body);
        QCOMPARE(body.at("method").get<std::string>(), std::string("POST"));
        QCOMPARE(body.at("path").get<std::string>(), std::string("/some/path"));
        QCOMPARE(body.at("body_bytes").get<int>(), 7);
        QCOMPARE(body.at("peer").get<std::string>(), std::string("127.0.0.1"));
        QCOMPARE(body.at("dpop_repeated").get<bool>(), false);
    }

    void aRepeatedHeaderReachesTheHandlerMarked()
    {
        RunningServer server(m_options);
        HttpsClient client(m_caFile);
        const auto response = client.get(server.url("/x"), {"DPoP: one", "DPoP: two"});
        QCOMPARE(response.status, 200L);
        QCOMPARE(json::parse(response.body).at("dpop_repeated").get<bool>(), true);
    }

    void speaksTls12AndTls13_data()
    {
        QTest::addColumn<QString>("flag");
        QTest::addColumn<QByteArray>("protocol");
        QTest::newRow("TLS 1.2") << QStringLiteral("-tls1_2") << QByteArray("TLSv1.2");
        QTest::newRow("TLS 1.3") << QStringLiteral("-tls1_3") << QByteArray("TLSv1.3");
    }
    void speaksTls12AndTls13()
    {
        QFETCH(QString, flag);
        QFETCH(QByteArray, protocol);
        RunningServer server(m_options);
        const auto result =
            runOpenSsl({QStringLiteral("s_client"), QStringLiteral("-connect"),
                        QStringLiteral("127.0.0.1:%1").arg(server.port()),
                        QStringLiteral("-CAfile"), QString::fromStdString(m_caFile.string()),
                        QStringLiteral("-verify_return_error"), QStringLiteral("-brief"), flag});
        QVERIFY2(result.exitCode == 0, result.output.constData());
        QVERIFY2(result.output.contains("Protocol version: " + protocol), result.output);
        QVERIFY2(result.output.contains("Verification: OK"), result.output);
    }

    void refusesTls11()
    {
        RunningServer server(m_options);
        // SECLEVEL=0 lets this client offer TLS 1.1 at all, so the refusal is the server's.
        const auto result =
            runOpenSsl({QStringLiteral("s_client"), QStringLiteral("-connect"),
                        QStringLiteral("127.0.0.1:%1").arg(server.port()),
                        QStringLiteral("-tls1_1"), QStringLiteral("-cipher"),
                        QStringLiteral("DEFAULT:@SECLEVEL=0"), QStringLiteral("-brief")});
        QVERIFY2(result.exitCode != 0, result.output.constData());
        QVERIFY2(result.output.contains("alert protocol version"), result.output);
        QVERIFY2(!result.output.contains("CONNECTION ESTABLISHED"), result.output);
    }

    void acceptsABodyOfExactlyTheLimit()
    {
        RunningServer server(m_options);
        HttpsClient client(m_caFile);
        const std::string body(1024 * 1024, 'a');
        const auto response = client.postJson(server.url("/big"), body);
        QCOMPARE(response.status, 200L);
        QCOMPARE(json::parse(response.body).at("body_bytes").get<std::size_t>(), body.size());
    }

    void refusesABodyOneByteOverTheLimitWithAProblem()
    {
        RunningServer server(m_options);
        HttpsClient client(m_caFile);
        const auto response =
            client.postJson(server.url("/big"), std::string(1024 * 1024 + 1, 'a'));
        QCOMPARE(response.status, 413L);
        QCOMPARE(response.contentType, std::string("application/problem+json"));
        const json problem = json::parse(response.body);
        QCOMPARE(problem.at("code").get<std::string>(), std::string("payload_too_large"));
        QCOMPARE(problem.at("status").get<int>(), 413);
        QCOMPARE(problem.at("type").get<std::string>(),
                 std::string("https://vigil.dev/problems/payload_too_large"));
        QCOMPARE(problem.at("detail").get<std::string>(),
                 std::string("request bodies are limited to 1048576 bytes"));
    }

    void theBodyLimitInTheProblemIsTheConfiguredOne()
    {
        HttpsServerOptions options = m_options;
        options.maxBodyBytes = 1000;
        RunningServer server(options);
        HttpsClient client(m_caFile);
        QCOMPARE(client.postJson(server.url("/"), std::string(1000, 'a')).status, 200L);
        const auto response = client.postJson(server.url("/"), std::string(1001, 'a'));
        QCOMPARE(response.status, 413L);
        QCOMPARE(json::parse(response.body).at("detail").get<std::string>(),
                 std::string("request bodies are limited to 1000 bytes"));
    }

    void keepAliveServesAHundredRequestsOnOneConnection()
    {
        RunningServer server(m_options);
        HttpsClient client(m_caFile);
        for (int i = 0; i < 100; ++i) {
            const auto response = client.get(server.url("/n/" + std::to_string(i)));
            QCOMPARE(response.status, 200L);
            QCOMPARE(json::parse(response.body).at("path").get<std::string>(),
                     "/n/" + std::to_string(i));
        }
        QCOMPARE(client.connectionsOpened(), 1L);
    }

    // A response's head and body leave together (responsecoalescer.h): a kept-alive connection
    // receives about one data segment per response, not two. The slack is for TLS 1.3 session
    // tickets and the odd split write.
    void eachResponseArrivesInOneSegment()
    {
        RunningServer server(m_options);
        HttpsClient client(m_caFile);
        QCOMPARE(client.get(server.url("/warm-up")).status, 200L);
        const std::uint32_t before = client.dataSegmentsReceived();
        constexpr std::uint32_t requests = 100;
        for (std::uint32_t i = 0; i < requests; ++i)
            QCOMPARE(client.get(server.url("/n")).status, 200L);
        const std::uint32_t received = client.dataSegmentsReceived() - before;
        QVERIFY2(
            received < requests * 3 / 2,
            qPrintable(QStringLiteral("%1 segments for %2 responses").arg(received).arg(requests)));
        QCOMPARE(client.connectionsOpened(), 1L);
    }

    // Far more than a socket buffer holds: sent in several writes, whole and in order.
    void aResponseLargerThanTheSocketBufferArrivesWhole()
    {
        const std::string big = [] {
            std::string text(4 * 1024 * 1024, '\0');
            for (std::size_t i = 0; i < text.size(); ++i)
                text[i] = static_cast<char>('a' + i % 26);
            return text;
        }();
        RunningServer server(m_options, [&big](const HttpRequest &) {
            HttpResponse response;
            response.contentType = "text/plain";
            response.body = big;
            return response;
        });
        HttpsClient client(m_caFile);
        for (int i = 0; i < 2; ++i) {
            const auto response = client.get(server.url("/big"));
            QCOMPARE(response.status, 200L);
            QCOMPARE(response.body.size(), big.size());
            QVERIFY(response.body == big);
        }
        QCOMPARE(client.connectionsOpened(), 1L);
    }

    void aClientStallingMidRequestIsDisconnectedAfterTheReadTimeout()
    {
        RunningServer server(shortTimeouts());
        const int fd = connectTcp(server.port(), std::chrono::seconds(15));
        QVERIFY(fd >= 0);
        std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> context(SSL_CTX_new(TLS_client_method()),
                                                                  SSL_CTX_free);
        QVERIFY(context);
        QCOMPARE(SSL_CTX_load_verify_locations(context.get(), m_caFile.c_str(), nullptr), 1);
        SSL_CTX_set_verify(context.get(), SSL_VERIFY_PEER, nullptr);
        std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(context.get()), SSL_free);
        SSL_set_fd(ssl.get(), fd);
        QCOMPARE(SSL_connect(ssl.get()), 1);

        // Started before the write: the server's clock starts when the bytes arrive, so a
        // pause between the two only adds to what is measured.
        QElapsedTimer timer;
        timer.start();
        const std::string half = "GET /v1/hea";
        QCOMPARE(SSL_write(ssl.get(), half.data(), int(half.size())), int(half.size()));
        char buffer[256];
        int read = 0;
        // TLS 1.3 session tickets are handled inside SSL_read; what ends the loop is the server
        // closing the connection (0 or an error), or our own 15 s receive timeout.
        do {
            read = SSL_read(ssl.get(), buffer, sizeof buffer);
        } while (read > 0);
        const qint64 elapsed = timer.elapsed();
        const int error = SSL_get_error(ssl.get(), read);
        const bool timedOutOurselves = error == SSL_ERROR_SYSCALL && errno == EAGAIN;
        ERR_clear_error();
        ::close(fd);
        QVERIFY2(!timedOutOurselves, "the server kept the stalled connection for 15 s");
        QVERIFY2(elapsed >= 900, QByteArray::number(elapsed) + " ms: closed before the timeout");
        QVERIFY2(elapsed < 5000, QByteArray::number(elapsed) + " ms");
    }

    void aClientThatNeverStartsTlsIsDisconnectedAfterTheReadTimeout()
    {
        RunningServer server(shortTimeouts());
        QElapsedTimer timer; // before connecting, when the server's clock may start
        timer.start();
        const int fd = connectTcp(server.port(), std::chrono::seconds(15));
        QVERIFY(fd >= 0);
        char byte = 0;
        const ssize_t got = ::recv(fd, &byte, 1, 0);
        const int error = errno;
        const qint64 elapsed = timer.elapsed();
        ::close(fd);
        QVERIFY2(got == 0, got < 0 ? std::strerror(error) : "the server sent data");
        QVERIFY2(elapsed >= 900, QByteArray::number(elapsed) + " ms");
        QVERIFY2(elapsed < 5000, QByteArray::number(elapsed) + " ms");
    }

    void aHandlerExceptionBecomesAnInternalErrorProblem_data()
    {
        QTest::addColumn<QString>("path");
        QTest::newRow("std::exception") << QStringLiteral("/throw");
        QTest::newRow("anything else") << QStringLiteral("/throw-other");
    }
    void aHandlerExceptionBecomesAnInternalErrorProblem()
    {
        QFETCH(QString, path);
        // The exception's text goes to the log, where an operator finds it.
        QTest::ignoreMessage(QtCriticalMsg,
                             path == QStringLiteral("/throw")
                                 ? "GET /throw failed: handler secret 1234 went wrong"
                                 : "GET /throw-other failed with an exception of unknown type");
        std::vector<int> logged;
        std::mutex mutex;
        HttpsServer server(m_options, echo,
                           [&](const std::string &, const std::string &, int status,
                               std::chrono::microseconds, const std::string &) {
                               const std::lock_guard lock(mutex);
                               logged.push_back(status);
                           });
        std::thread thread([&] { server.serve(); });
        const std::string url =
            "https://127.0.0.1:" + std::to_string(server.port()) + path.toStdString();
        // The client goes before the server stops: a kept-alive connection would hold the
        // server's worker (and so serve()) until the keep-alive timeout.
        const auto response = HttpsClient(m_caFile).get(url);
        server.stop();
        thread.join();

        QCOMPARE(response.status, 500L);
        QCOMPARE(response.contentType, std::string("application/problem+json"));
        const json problem = json::parse(response.body);
        QCOMPARE(problem.at("code").get<std::string>(), std::string("internal_error"));
        QCOMPARE(problem.at("status").get<int>(), 500);
        QCOMPARE(problem.at("detail").get<std::string>(),
                 std::string("the verifier failed; see its log"));
        // The exception's text is for the log only, never for the client.
        QVERIFY(response.body.find("secret") == std::string::npos);
        for (const auto &[name, value] : response.headers)
            QVERIFY2(value.find("secret") == std::string::npos && name != "exception_what",
                     name.c_str());
        // And the access log has the request.
        const std::lock_guard lock(mutex);
        QCOMPARE(logged, std::vector<int>{500});
    }

    // A renewal while serving: new handshakes present the new certificate, a connection kept
    // alive across the swap goes on with the one it has.
    void presentedCredentialsChangeForNewConnectionsOnly()
    {
        RunningServer server(m_options);
        QCOMPARE(vigil::test::presentedCertificateFingerprint(server.port()),
                 certificateFingerprint(m_certificateFile));
        HttpsClient kept(m_caFile);
        QCOMPARE(kept.get(server.url("/before")).status, 200L);

        // Another directory's pair stands in for a renewal; its own CA tells them apart.
        const fs::path otherDir = fs::path(m_dir.path().toStdString()) / "other";
        DataDirectory::initialise(otherDir, {"127.0.0.1"}, std::chrono::system_clock::now());
        const DataDirectory other = DataDirectory::open(otherDir);
        server.server().present(other.tlsCredentials());

        QCOMPARE(vigil::test::presentedCertificateFingerprint(server.port()),
                 certificateFingerprint(other.tlsCertificate()));
        QCOMPARE(kept.get(server.url("/after")).status, 200L);
        QCOMPARE(kept.connectionsOpened(), 1L);
        HttpsClient fresh(other.caCertificate());
        QCOMPARE(fresh.get(server.url("/new")).status, 200L);
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, server.server().present(nullptr));
    }

    // The certificate file may carry intermediates after the server's certificate (here the CA
    // stands in for one): they go out in the handshake too.
    void aCertificateFileWithIntermediatesSendsThem()
    {
        const fs::path chain = fs::path(m_dir.path().toStdString()) / "chain.pem";
        {
            std::ofstream out(chain);
            out << std::ifstream(m_certificateFile).rdbuf() << std::ifstream(m_caFile).rdbuf();
        }
        HttpsServerOptions options = m_options;
        options.credentials = TlsCredentials::load(chain, m_data / DataDirectory::tlsKeyName);
        RunningServer server(options);
        const auto result = runOpenSsl({QStringLiteral("s_client"), QStringLiteral("-connect"),
                                        QStringLiteral("127.0.0.1:%1").arg(server.port()),
                                        QStringLiteral("-showcerts")});
        QVERIFY2(result.exitCode == 0, result.output.constData());
        QCOMPARE(result.output.count("-----BEGIN CERTIFICATE-----"), qsizetype(2));
    }

    void credentialsAreRequired()
    {
        HttpsServerOptions options = m_options;
        options.credentials.reset();
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, HttpsServer(options, echo));
    }

    void aPortInUseByAnotherServerIsNamed()
    {
        // Two verifiers on one port would silently share its connections (SO_REUSEPORT):
        // the second must refuse to start.
        RunningServer first(m_options);
        HttpsServerOptions options = m_options;
        options.port = first.port();
        const QByteArray message =
            thrownMessage<std::runtime_error>([&] { HttpsServer server(options, echo); });
        QCOMPARE(message, QByteArray("cannot listen on 127.0.0.1:") +
                              QByteArray::number(first.port()) +
                              " (in use, or not an address of this machine?)");
    }

    void aPortInUseByAnotherProgramIsNamed()
    {
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        QVERIFY(fd >= 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        QCOMPARE(::bind(fd, reinterpret_cast<sockaddr *>(&address), sizeof address), 0);
        QCOMPARE(::listen(fd, 1), 0);
        socklen_t length = sizeof address;
        ::getsockname(fd, reinterpret_cast<sockaddr *>(&address), &length);
        HttpsServerOptions options = m_options;
        options.port = ntohs(address.sin_port);
        const QByteArray message =
            thrownMessage<std::runtime_error>([&] { HttpsServer server(options, echo); });
        ::close(fd);
        QCOMPARE(message, QByteArray("cannot listen on 127.0.0.1:") +
                              QByteArray::number(options.port) +
                              " (in use, or not an address of this machine?)");
    }

    void anAddressOfAnotherMachineIsNamed()
    {
        HttpsServerOptions options = m_options;
        options.address = "192.0.2.1"; // TEST-NET-1: never ours
        const QByteArray message =
            thrownMessage<std::runtime_error>([&] { HttpsServer server(options, echo); });
        QCOMPARE(message, QByteArray("cannot listen on 192.0.2.1"));
    }

    void stopBeforeServeMakesServeReturn()
    {
        // A service may be told to stop while its serving thread is still starting; serve()
        // must then return instead of serving forever.
        for (int i = 0; i < 20; ++i) {
            HttpsServer server(m_options, echo);
            std::atomic<bool> returned{false};
            std::thread thread([&] {
                server.serve();
                returned = true;
            });
            server.stop();
            const bool stopped = QTest::qWaitFor([&] { return returned.load(); }, 5000);
            if (!stopped)
                server.stop(); // running by now: this stop reaches it
            thread.join();
            QVERIFY2(stopped, "serve() went on serving after stop()");
        }
        HttpsServer server(m_options, echo);
        server.stop();
        QVERIFY(server.serve());
    }

    // --- Framing and limits, as an attacker would try them ---

    void conflictingOrDuplicateFramingIsRefused_data()
    {
        QTest::addColumn<QByteArray>("head");
        QTest::newRow("two different lengths")
            << QByteArray("Content-Length: 2\r\nContent-Length: 3\r\n");
        QTest::newRow("the same length twice")
            << QByteArray("Content-Length: 2\r\nContent-Length: 2\r\n");
        QTest::newRow("length and chunked")
            << QByteArray("Content-Length: 2\r\nTransfer-Encoding: chunked\r\n");
        QTest::newRow("chunked twice")
            << QByteArray("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n");
        QTest::newRow("a coding other than chunked") << QByteArray("Transfer-Encoding: gzip\r\n");
    }
    void conflictingOrDuplicateFramingIsRefused()
    {
        QFETCH(QByteArray, head);
        std::atomic<int> handled{0};
        RunningServer server(m_options, counting(handled));
        RawTlsConnection connection(server.port(), m_caFile);
        connection.send("POST /v1/reports HTTP/1.1\r\nHost: x\r\n" + head.toStdString() +
                        "\r\n{}\r\n");
        QCOMPARE(connection.readStatus(), 400);
        QVERIFY(connection.closedByServer());
        QCOMPARE(handled.load(), 0);
    }

    // A 520 KB gzip body inflating to 512 MiB once took the old server to 1.1 GB before any
    // authentication, even on an unknown path. Now it is refused before the body is read.
    void aCompressedBodyIsRefusedUnread()
    {
        std::atomic<int> handled{0};
        RunningServer server(m_options, counting(handled));
        const std::string bomb(520 * 1024, '\x1f');
        const long before = residentKilobytes();
        for (const char *path : {"/v1/reports", "/nowhere"}) {
            RawTlsConnection connection(server.port(), m_caFile);
            connection.send(std::string("POST ") + path +
                            " HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\nContent-Length: " +
                            std::to_string(bomb.size()) + "\r\n\r\n");
            QCOMPARE(connection.readStatus(), 415);
            connection.send(bomb); // may fail: the server has closed
        }
        QCOMPARE(handled.load(), 0);
        QVERIFY2(residentKilobytes() - before < 10 * 1024,
                 (std::to_string(residentKilobytes() - before) + " KiB more").c_str());
    }

    // 128 MiB in chunks: cut off once the limit is passed, not buffered whole.
    void aChunkedBodyIsCutOffAtTheLimit()
    {
        std::atomic<int> handled{0};
        RunningServer server(m_options, counting(handled));
        RawTlsConnection connection(server.port(), m_caFile);
        QVERIFY(connection.send(
            "POST /v1/reports HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"));
        const std::string chunk = "10000\r\n" + std::string(0x10000, 'a') + "\r\n";
        std::size_t sent = 0;
        int status = 0;
        while (sent < 128u * 1024 * 1024 && connection.send(chunk)) {
            sent += 0x10000;
            if (connection.readable()) {
                status = connection.readStatus();
                break;
            }
        }
        // What the kernel's socket buffers took beyond the limit before the answer came back.
        QVERIFY2(sent < m_options.maxBodyBytes + 16 * 1024 * 1024,
                 (std::to_string(sent) + " bytes sent").c_str());
        QCOMPARE(status, 413);
        QCOMPARE(handled.load(), 0);
    }

    // 500,000 header lines (103 MB) were once answered 200. Now 431 after the head's limit.
    // HTTP/1.1 requests have no close-delimited bodies: without Content-Length or chunked
    // framing the body is empty, and what follows is read as the next request, which is not
    // one. 256 MiB sent that way were once buffered whole.
    void anUnframedBodyIsNotRead()
    {
        std::atomic<int> handled{0};
        RunningServer server(m_options, counting(handled));
        RawTlsConnection connection(server.port(), m_caFile);
        QVERIFY(connection.send("POST /x HTTP/1.1\r\nHost: x\r\n\r\n"));
        const std::string block(0x10000, 'a');
        std::size_t sent = 0;
        std::vector<int> statuses;
        while (sent < 256u * 1024 * 1024 && connection.send(block)) {
            sent += block.size();
            while (connection.readable() && statuses.size() < 2)
                statuses.push_back(connection.readStatus());
            if (statuses.size() == 2)
                break;
        }
        QVERIFY2(sent < 16 * 1024 * 1024, (std::to_string(sent) + " bytes sent").c_str());
        QVERIFY(!statuses.empty());
        QCOMPARE(statuses[0], 200); // the POST, with an empty body
        QCOMPARE(handled.load(), 1);
    }

    void endlessHeadersAreRefused()
    {
        std::atomic<int> handled{0};
        RunningServer server(m_options, counting(handled));
        RawTlsConnection connection(server.port(), m_caFile);
        QVERIFY(connection.send("GET /v1/health HTTP/1.1\r\nHost: x\r\n"));
        std::string lines;
        for (int i = 0; i < 1000; ++i)
            lines += "X-Filler-" + std::to_string(i) +
                     ": 0123456789012345678901234567890123456789"
                     "0123456789012345678901234567890123456\r\n";
        int status = 0;
        std::size_t sent = 0;
        for (int i = 0; i < 500 && connection.send(lines); ++i) {
            sent += lines.size();
            if (connection.readable()) {
                status = connection.readStatus();
                break;
            }
        }
        QVERIFY2(sent < 16 * 1024 * 1024, (std::to_string(sent) + " bytes sent").c_str());
        QCOMPARE(status, 431);
        QCOMPARE(handled.load(), 0);
    }

    void tooManyHeaderFieldsAreRefused()
    {
        RunningServer server(m_options);
        RawTlsConnection connection(server.port(), m_caFile);
        std::string head = "GET /x HTTP/1.1\r\nHost: x\r\n";
        for (std::size_t i = 0; i < m_options.maxHeaderFields; ++i)
            head += "X-" + std::to_string(i) + ": 1\r\n";
        connection.send(head + "\r\n");
        QCOMPARE(connection.readStatus(), 431);
    }

    // Sixty-four connections trickling a head a byte at a time: each is cut off when the
    // head's deadline passes, however often a byte arrives, and a normal client is served
    // all along.
    void slowHeadsNeitherStallOthersNorLastPastTheirDeadline()
    {
        RunningServer server(shortTimeouts());
        std::vector<std::unique_ptr<RawTlsConnection>> slow;
        for (int i = 0; i < 64; ++i)
            slow.push_back(std::make_unique<RawTlsConnection>(server.port(), m_caFile));
        std::atomic<bool> trickling{true};
        std::thread trickler([&] {
            const std::string head = "GET /slow HTTP/1.1\r\nHost: x\r\nX-Slow: ";
            for (std::size_t i = 0; trickling && i < 1000; ++i) {
                for (auto &connection : slow)
                    connection->send(std::string_view(&head[i % head.size()], 1));
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
            }
        });
        HttpsClient client(m_caFile);
        QElapsedTimer timer;
        timer.start();
        for (int i = 0; i < 20; ++i) {
            QElapsedTimer one;
            one.start();
            QCOMPARE(client.get(server.url("/normal")).status, 200L);
            QVERIFY2(one.elapsed() < 1000, (std::to_string(one.elapsed()) + " ms").c_str());
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        // The head's deadline is 1 s (plus the handshake's): all 64 are gone well within 5 s.
        QTRY_VERIFY_WITH_TIMEOUT(server.server().openConnections() <= 1, 5000);
        trickling = false;
        trickler.join();
    }

    // Connections above the per-address cap are closed at once; those below keep working.
    void connectionsAboveTheCapAreRefused()
    {
        HttpsServerOptions options = m_options;
        options.maxConnectionsPerAddress = 4;
        RunningServer server(options);
        std::vector<std::unique_ptr<RawTlsConnection>> held;
        for (int i = 0; i < 4; ++i)
            held.push_back(std::make_unique<RawTlsConnection>(server.port(), m_caFile));
        QVERIFY_THROWS_EXCEPTION(std::runtime_error, RawTlsConnection(server.port(), m_caFile));
        held[0]->send("GET /still-served HTTP/1.1\r\nHost: x\r\n\r\n");
        QCOMPARE(held[0]->readStatus(), 200);
        held.pop_back();
        QTRY_COMPARE_WITH_TIMEOUT(server.server().openConnections(), std::size_t(3), 5000);
        RawTlsConnection another(server.port(), m_caFile); // room again
    }

    void anIdleKeptAliveConnectionIsClosed()
    {
        HttpsServerOptions options = m_options;
        options.keepAliveTimeout = std::chrono::seconds(1);
        RunningServer server(options);
        RawTlsConnection connection(server.port(), m_caFile);
        connection.send("GET /x HTTP/1.1\r\nHost: x\r\n\r\n");
        QCOMPARE(connection.readStatus(), 200);
        QElapsedTimer timer;
        timer.start();
        QVERIFY(connection.closedByServer());
        QVERIFY2(timer.elapsed() < 5000, (std::to_string(timer.elapsed()) + " ms").c_str());
    }

    // Ten thousand idle kept-alive TLS connections cost memory only: a normal client is served
    // at once all the while. Prints what each idle connection costs the server.
    void tenThousandIdleConnectionsLeaveOthersServed()
    {
        constexpr int idle = 10000;
        rlimit limit{};
        getrlimit(RLIMIT_NOFILE, &limit);
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
        if (limit.rlim_cur < idle + 512)
            QSKIP("the descriptor limit is below 10,512 here");
        HttpsServerOptions options = m_options;
        options.maxConnections = options.maxConnectionsPerAddress = idle + 16;
        options.handshakeTimeout = options.headTimeout = options.keepAliveTimeout =
            std::chrono::seconds(600);
        RunningServer server(options);
        HttpsClient client(m_caFile);
        QCOMPARE(client.get(server.url("/warm-up")).status, 200L);
        const long before = residentKilobytes();

        QProcess clients;
        clients.start(QStringLiteral("/usr/bin/python3"),
                      {QStringLiteral("-c"), QString::fromLatin1(idleClients),
                       QString::number(server.port()), QString::fromStdString(m_caFile.string()),
                       QString::number(idle)});
        QVERIFY(clients.waitForStarted());
        QElapsedTimer timer;
        timer.start();
        while (!clients.canReadLine() && clients.state() == QProcess::Running &&
               timer.elapsed() < 240000)
            clients.waitForReadyRead(1000);
        QVERIFY2(clients.readLine().trimmed() == "ready " + QByteArray::number(idle),
                 clients.readAllStandardError().constData());
        QCOMPARE(server.server().openConnections(), std::size_t(idle + 1));
        const long perConnection = (residentKilobytes() - before) * 1024 / idle;
        qInfo("%d idle TLS connections took %ld bytes each (%s build)", idle, perConnection,
#if defined(__SANITIZE_ADDRESS__)
              "ASan");
#else
              "plain");
#endif

        for (int i = 0; i < 5; ++i) {
            QElapsedTimer one;
            one.start();
            QCOMPARE(client.get(server.url("/normal")).status, 200L);
            QVERIFY2(one.elapsed() < 1000, (std::to_string(one.elapsed()) + " ms").c_str());
        }
        clients.closeWriteChannel();
        QVERIFY(clients.waitForFinished(60000));
    }

    // A held request costs no thread: with one worker, fifty requests held by the handler leave
    // it free to answer another at once, and each held one is answered when released.
    void heldRequestsCostNoThread()
    {
        std::mutex mutex;
        std::vector<Responder> held;
        HttpsServerOptions options = m_options;
        options.threads = 1;
        HttpsServer server(options, [&](const HttpRequest &request, Responder respond) {
            if (request.path != "/held")
                return respond(echo(request));
            const std::lock_guard lock(mutex);
            held.push_back(std::move(respond));
        });
        std::thread serving([&server] { server.serve(); });
        std::vector<std::unique_ptr<RawTlsConnection>> waiting;
        for (int i = 0; i < 50; ++i) {
            waiting.push_back(std::make_unique<RawTlsConnection>(server.port(), m_caFile));
            waiting.back()->send("GET /held HTTP/1.1\r\nHost: x\r\n\r\n");
        }
        QTRY_COMPARE_WITH_TIMEOUT(([&] {
                                      const std::lock_guard lock(mutex);
                                      return held.size();
                                  }()),
                                  std::size_t(50), 10000);
        HttpsClient client(m_caFile);
        QElapsedTimer timer;
        timer.start();
        QCOMPARE(client.get("https://127.0.0.1:" + std::to_string(server.port()) + "/other").status,
                 200L);
        QVERIFY2(timer.elapsed() < 1000, (std::to_string(timer.elapsed()) + " ms").c_str());
        {
            const std::lock_guard lock(mutex);
            for (auto &respond : held) {
                HttpResponse answer;
                answer.body = R"({"released":true})";
                respond(std::move(answer));
            }
            held.clear();
        }
        for (auto &connection : waiting)
            QCOMPARE(connection->readStatus(), 200);
        server.stop();
        serving.join();
    }

    void aClientExpectingContinueIsAnswered()
    {
        RunningServer server(m_options);
        RawTlsConnection connection(server.port(), m_caFile);
        connection.send("POST /x HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                        "Content-Length: 2\r\n\r\n");
        QCOMPARE(connection.readStatus(), 100);
        connection.send("{}");
        QCOMPARE(connection.readStatus(), 200);
    }

private:
    // For the tests of the deadlines; the others keep the defaults, so that a loaded machine
    // pausing for a second mid-request does not cut them off.
    HttpsServerOptions shortTimeouts() const
    {
        HttpsServerOptions options = m_options;
        options.handshakeTimeout = options.headTimeout = options.bodyTimeout =
            std::chrono::seconds(1);
        return options;
    }

    QTemporaryDir m_dir;
    fs::path m_data;
    fs::path m_caFile;
    fs::path m_certificateFile;
    HttpsServerOptions m_options;
};

QTEST_GUILESS_MAIN(TestHttpsServer)
#include "tst_httpsserver.moc"
