// The device's HTTPS transport against real TLS servers: the verifier's own front end with a CA
// made by `vigil-verifier init`'s code, a bare listening socket and a Python TLS server (an
// independent HTTP implementation) for answers the verifier never gives.
#include "app/client/httpstransport.h"
#include "fakehttpsserver.h"
#include "loopbackport.h"

#include <QProcess>
#include <QtTest>
#include <nlohmann/json.hpp>

using namespace vigil;
using app::HttpsTransport;
using app::HttpsTransportOptions;
using app::TransportError;
using vigil::test::FakeHttpsServer;

namespace {

// Python's ssl module serves one request with a chunked answer of `chunks` chunks of 500 bytes
// (no Content-Length: only the transport's own count can stop it).
const char *chunkedServer = R"(
import socket, ssl, sys
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(sys.argv[1], sys.argv[2])
listener = socket.socket()
listener.bind(('127.0.0.1', 0))
listener.listen(1)
print(listener.getsockname()[1], flush=True)
connection, _ = listener.accept()
tls = context.wrap_socket(connection, server_side=True)
request = b''
while b'\r\n\r\n' not in request:
    request += tls.recv(4096)
tls.sendall(b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n')
chunk = b'x' * 500
try:
    for i in range(int(sys.argv[3])):
        tls.sendall(b'%x\r\n' % len(chunk) + chunk + b'\r\n')
    tls.sendall(b'0\r\n\r\n')
    tls.close()
except OSError:
    pass
)";

} // namespace

class TestHttpsTransport : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { m_server = std::make_unique<FakeHttpsServer>(); }

    void getAndPostReuseOneConnection()
    {
        m_server->setHandler([](const server::HttpRequest &request) {
            server::HttpResponse response;
            response.body = nlohmann::json{
                {"method", request.method},
                {"path", request.path},
                {"content_type", request.header("content-type")},
                {"dpop", request.header("dpop")},
                {"body",
                 request.body}}.dump();
            response.headers.emplace_back("X-Answer", "a");
            response.headers.emplace_back("x-answer", "b");
            return response;
        });
        HttpsTransport transport(m_server->caFile());
        const auto got = transport.get(m_server->url("/v1/health"), {"DPoP: proof"});
        QCOMPARE(got.status, 200L);
        QCOMPARE(got.contentType, std::string("application/json"));
        const auto echo = nlohmann::json::parse(got.body);
        QCOMPARE(echo.at("method").get<std::string>(), std::string("GET"));
        QCOMPARE(echo.at("path").get<std::string>(), std::string("/v1/health"));
        QCOMPARE(echo.at("dpop").get<std::string>(), std::string("proof"));
        QCOMPARE(got.headers.at("x-answer"), std::string("a, b"));

        const auto posted = transport.post(m_server->url("/v1/nonces"), R"({"version":1})");
        const auto postEcho = nlohmann::json::parse(posted.body);
        QCOMPARE(postEcho.at("method").get<std::string>(), std::string("POST"));
        QCOMPARE(postEcho.at("content_type").get<std::string>(), std::string("application/json"));
        QCOMPARE(postEcho.at("body").get<std::string>(), std::string(R"({"version":1})"));
        transport.get(m_server->url("/again"));
        QCOMPARE(transport.connectionsOpened(), 1L);
    }

    void everyStatusIsAnAnswer()
    {
        m_server->setHandler([](const server::HttpRequest &) {
            server::HttpResponse response;
            response.status = 503;
            response.contentType = "text/plain";
            response.body = "down";
            return response;
        });
        HttpsTransport transport(m_server->caFile());
        const auto answer = transport.get(m_server->url("/"));
        QCOMPARE(answer.status, 503L);
        QCOMPARE(answer.contentType, std::string("text/plain"));
        QCOMPARE(answer.body, std::string("down"));
    }

    void httpsOnly()
    {
        HttpsTransport transport(m_server->caFile());
        try {
            transport.get("http://127.0.0.1:" + std::to_string(m_server->port()) + "/v1/health");
            QFAIL("plain HTTP was used");
        } catch (const TransportError &e) {
            QCOMPARE(e.kind(), TransportError::Kind::Other);
            QCOMPARE(std::string(e.what()),
                     "refusing http://127.0.0.1:" + std::to_string(m_server->port()) +
                         "/v1/health: the verifier is reached over https only");
        }
    }

    void closedPortIsUnreachable()
    {
        const test::ClosedLoopbackPort closed;
        const int port = closed.port();
        HttpsTransport transport(m_server->caFile());
        const std::string url = "https://127.0.0.1:" + std::to_string(port) + "/v1/health";
        try {
            transport.get(url);
            QFAIL("no error");
        } catch (const TransportError &e) {
            QCOMPARE(e.kind(), TransportError::Kind::Unreachable);
            QCOMPARE(e.url(), url);
            const std::string message = e.what();
            const std::string prefix = "cannot reach " + url +
                                       ": Failed to connect to 127.0.0.1 port " +
                                       std::to_string(port) + " after ";
            QVERIFY2(message.starts_with(prefix), message.c_str());
            QVERIFY2(message.ends_with(" ms: Couldn't connect to server"), message.c_str());
        }
    }

    void anotherCaIsATlsFailure()
    {
        FakeHttpsServer other; // same names, its own CA
        HttpsTransport transport(other.caFile());
        const std::string url = m_server->url("/v1/health");
        try {
            transport.get(url);
            QFAIL("a certificate from an unpinned CA was accepted");
        } catch (const TransportError &e) {
            QCOMPARE(e.kind(), TransportError::Kind::Tls);
            QCOMPARE(std::string(e.what()),
                     "TLS failure with " + url +
                         ": the server's certificate is not one the "
                         "pinned CA '" +
                         other.caFile().string() +
                         "' issued for this name: SSL certificate problem: unable to get local "
                         "issuer certificate");
        }
        QCOMPARE(other.requests(), 0);
    }

    void wrongNameIsATlsFailure()
    {
        FakeHttpsServer onlyAddress({"127.0.0.1"});
        HttpsTransport transport(onlyAddress.caFile());
        QCOMPARE(transport.get(onlyAddress.url("/")).status, 200L);
        const std::string url = "https://localhost:" + std::to_string(onlyAddress.port()) + "/";
        try {
            transport.get(url);
            QFAIL("a certificate for another name was accepted");
        } catch (const TransportError &e) {
            QCOMPARE(e.kind(), TransportError::Kind::Tls);
            QCOMPARE(std::string(e.what()),
                     "TLS failure with " + url +
                         ": the server's certificate is not one the "
                         "pinned CA '" +
                         onlyAddress.caFile().string() +
                         "' issued for this name: SSL: no alternative certificate subject name "
                         "matches target host name 'localhost'");
        }
    }

    void silentServerTimesOut()
    {
        const test::SilentLoopbackListener listening; // nobody answers TLS
        HttpsTransportOptions options;
        options.connectTimeout = std::chrono::milliseconds(300);
        options.totalTimeout = std::chrono::milliseconds(600);
        HttpsTransport transport(m_server->caFile(), options);
        const std::string url = "https://127.0.0.1:" + std::to_string(listening.port()) + "/";
        QElapsedTimer timer;
        timer.start();
        try {
            transport.get(url);
            QFAIL("no timeout");
        } catch (const TransportError &e) {
            QCOMPARE(e.kind(), TransportError::Kind::Timeout);
            const std::string message = e.what();
            QVERIFY2(message.starts_with("timed out waiting for " + url + ": "), message.c_str());
        }
        QVERIFY2(timer.elapsed() < 3000, QByteArray::number(timer.elapsed()).constData());
    }

    void slowAnswerTimesOut()
    {
        m_server->setHandler([](const server::HttpRequest &) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1500));
            return server::HttpResponse{};
        });
        HttpsTransportOptions options;
        options.totalTimeout = std::chrono::milliseconds(500);
        HttpsTransport transport(m_server->caFile(), options);
        try {
            transport.get(m_server->url("/slow"));
            QFAIL("no timeout");
        } catch (const TransportError &e) {
            QCOMPARE(e.kind(), TransportError::Kind::Timeout);
            const std::string message = e.what();
            QVERIFY2(message.starts_with("timed out waiting for " + m_server->url("/slow") +
                                         ": Operation timed out after "),
                     message.c_str());
        }
    }

    void answerSizeIsCapped_data()
    {
        QTest::addColumn<int>("cap"); // 0: the default, 1 MiB
        QTest::addColumn<int>("size");
        QTest::addColumn<bool>("refused");
        QTest::newRow("at the cap") << 1000 << 1000 << false;
        QTest::newRow("one byte over") << 1000 << 1001 << true;
        QTest::newRow("default cap") << 0 << 1024 * 1024 << false;
        QTest::newRow("over the default cap") << 0 << 1024 * 1024 + 1 << true;
    }

    void answerSizeIsCapped()
    {
        QFETCH(int, cap);
        QFETCH(int, size);
        QFETCH(bool, refused);
        m_server->setHandler([size](const server::HttpRequest &) {
            server::HttpResponse response;
            response.body.assign(static_cast<std::size_t>(size), 'x');
            return response;
        });
        HttpsTransportOptions options;
        if (cap > 0)
            options.maxResponseSize = static_cast<std::size_t>(cap);
        HttpsTransport transport(m_server->caFile(), options);
        const std::string url = m_server->url("/big");
        try {
            const auto answer = transport.get(url);
            QVERIFY(!refused);
            QCOMPARE(answer.body.size(), static_cast<std::size_t>(size));
        } catch (const TransportError &e) {
            QVERIFY2(refused, e.what());
            QCOMPARE(e.kind(), TransportError::Kind::TooLarge);
            QCOMPARE(std::string(e.what()), "the answer from " + url + " is larger than " +
                                                std::to_string(cap > 0 ? cap : 1024 * 1024) +
                                                " bytes; refused");
        }
    }

    void chunkedAnswerSizeIsCapped_data()
    {
        QTest::addColumn<int>("chunks");
        QTest::addColumn<bool>("refused");
        QTest::newRow("1000 bytes") << 2 << false;
        QTest::newRow("1500 bytes") << 3 << true;
    }

    void chunkedAnswerSizeIsCapped()
    {
        QFETCH(int, chunks);
        QFETCH(bool, refused);
        QProcess python;
        python.start(QStringLiteral("/usr/bin/python3"),
                     {QStringLiteral("-c"), QString::fromUtf8(chunkedServer),
                      QString::fromStdString(m_server->certificateFile().string()),
                      QString::fromStdString(m_server->keyFile().string()),
                      QString::number(chunks)});
        QVERIFY(python.waitForReadyRead(10000));
        const int port = python.readLine().trimmed().toInt();
        QVERIFY(port > 0);
        HttpsTransportOptions options;
        options.maxResponseSize = 1000;
        HttpsTransport transport(m_server->caFile(), options);
        const std::string url = "https://127.0.0.1:" + std::to_string(port) + "/";
        try {
            const auto answer = transport.get(url);
            QVERIFY(!refused);
            QCOMPARE(answer.body, std::string(1000, 'x'));
        } catch (const TransportError &e) {
            QVERIFY2(refused, e.what());
            QCOMPARE(e.kind(), TransportError::Kind::TooLarge);
            QCOMPARE(std::string(e.what()),
                     "the answer from " + url + " is larger than 1000 bytes; refused");
        }
        QVERIFY(python.waitForFinished(10000));
        QVERIFY2(python.exitCode() == 0, python.readAllStandardError().constData());
    }

    void unreadableCaFile()
    {
        try {
            HttpsTransport transport("/nonexistent/ca.pem");
            QFAIL("no error");
        } catch (const TransportError &e) {
            QCOMPARE(e.kind(), TransportError::Kind::Other);
            QCOMPARE(std::string(e.what()), std::string("cannot read the pinned CA file "
                                                        "'/nonexistent/ca.pem': No such file or "
                                                        "directory"));
        }
    }

    void cleanupTestCase() { m_server.reset(); }

private:
    std::unique_ptr<FakeHttpsServer> m_server;
};

QTEST_GUILESS_MAIN(TestHttpsTransport)
#include "tst_httpstransport.moc"
