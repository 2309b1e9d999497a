// The whole protocol against the real verifier over HTTPS: enrollment (TPM and software),
// reports, tokens and the protected resource, each step's answer checked in full.
#include "swtpmsimulator.h"
#include "testdevice.h"
#include "testverifier.h"

#include <QTemporaryDir>
#include <QTest>

using namespace vigil::test;
using nlohmann::json;

namespace {

const char *policyAllowingSoftware = R"({"version": 1, "accepted_assurance": ["software", "tpm"]})";

json body(const HttpResponse &response)
{
    return json::parse(response.body);
}

} // namespace

class TestProtocolFlow : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        m_swtpm = std::make_unique<SwtpmSimulator>();
        m_verifier = std::make_unique<TestVerifier>(policyAllowingSoftware, m_swtpm->caDirectory());
        m_client = std::make_unique<HttpsClient>(m_verifier->caFile());
    }

    void tpmDeviceEnrollsReportsAndGetsAToken()
    {
        auto &clock = m_verifier->clock();
        auto device = TestDevice::tpm(*m_swtpm, m_state.filePath(QStringLiteral("tpm")).toStdString(),
                                      [&clock] { return clock.now(); });
        const json enrolled = device->enroll(*m_client, m_verifier->url(""),
                                             m_verifier->createEnrollmentToken());
        QCOMPARE(enrolled.at("assurance").get<std::string>(), std::string("tpm"));
        const auto deviceId = enrolled.at("device_id").get<std::string>();
        const auto pcrs = enrolled.at("pcrs").get<std::vector<unsigned>>();
        QCOMPARE(pcrs, (std::vector<unsigned>{0, 1, 2, 3, 4, 5, 6, 7}));

        const std::string reportUrl = m_verifier->url("/v1/reports");
        const json report = {{"version", 1},
                             {"report", device->report(deviceId, enrolled.at("nonce"), pcrs)}};
        const auto appraisal = m_client->postJson(reportUrl, report.dump());
        QCOMPARE(appraisal.status, 200L);
        const json verdict = body(appraisal);
        QVERIFY2(verdict.at("verdict") == "compliant", appraisal.body.c_str());
        QVERIFY(verdict.at("next_nonce") != enrolled.at("nonce"));

        const std::string tokenUrl = m_verifier->url("/v1/tokens");
        const auto token = m_client->postJson(tokenUrl, R"({"version":1})",
                                              {device->dpopHeader("POST", tokenUrl)});
        QVERIFY2(token.status == 200, token.body.c_str());
        const std::string accessToken = body(token).at("access_token");

        const std::string whoamiUrl = m_verifier->url("/v1/whoami");
        const auto whoami =
            m_client->get(whoamiUrl, {"Authorization: DPoP " + accessToken,
                                      device->dpopHeader("GET", whoamiUrl, accessToken)});
        QVERIFY2(whoami.status == 200, whoami.body.c_str());
        QCOMPARE(body(whoami).at("device_id").get<std::string>(), deviceId);
        QCOMPARE(body(whoami).at("jkt").get<std::string>(), device->key().thumbprint());
    }

    void softwareDeviceEnrollsWhenThePolicyAllows()
    {
        auto &clock = m_verifier->clock();
        auto device = TestDevice::software(m_state.filePath(QStringLiteral("software")).toStdString(),
                                           [&clock] { return clock.now(); });
        const json enrolled = device->enroll(*m_client, m_verifier->url(""),
                                             m_verifier->createEnrollmentToken());
        QCOMPARE(enrolled.at("assurance").get<std::string>(), std::string("software"));
        const json report = {{"version", 1},
                             {"report", device->report(enrolled.at("device_id"),
                                                       enrolled.at("nonce"), {})}};
        const auto appraisal = m_client->postJson(m_verifier->url("/v1/reports"), report.dump());
        QVERIFY2(appraisal.status == 200, appraisal.body.c_str());
        QCOMPARE(body(appraisal).at("verdict").get<std::string>(), std::string("compliant"));
    }

private:
    QTemporaryDir m_state;
    std::unique_ptr<SwtpmSimulator> m_swtpm;
    std::unique_ptr<TestVerifier> m_verifier;
    std::unique_ptr<HttpsClient> m_client;
};

QTEST_GUILESS_MAIN(TestProtocolFlow)
#include "tst_protocolflow.moc"
