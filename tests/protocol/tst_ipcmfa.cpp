// The MFA methods of vigild's socket (docs/ipc.md 7.9 on): their params, read strictly and held
// as secrets that wipe themselves and never reach a log line or an error message; their results
// and the prompt events, read as strictly by the clients.
#include "protocol/ipc/request.h"
#include "protocol/ipc/response.h"
#include "protocol/rfc3339.h"
#include "testprinters.h"

#include <QTest>
#include <string>

using namespace vigil::protocol;
using namespace vigil::protocol::ipc;
using nlohmann::json;

namespace {

json request(const char *method, json params)
{
    return {{"v", 1}, {"id", 7}, {"method", method}, {"params", std::move(params)}};
}

QByteArray line(const json &value)
{
    return QByteArray::fromStdString(value.dump());
}

// "<code> <field>: <message>" of a refused line, or "accepted …".
QByteArray refusal(const QByteArray &text)
{
    try {
        const Request parsed = parseRequest(text.toStdString());
        return "accepted " + QByteArray::fromStdString(parsed.toJson().dump());
    } catch (const RequestError &e) {
        return QByteArray::fromStdString(std::string(errorCodeName(e.error().code)) + ' ' +
                                         e.error().field + ": " + e.error().message);
    }
}

QByteArray resultFault(const std::function<void()> &read)
{
    try {
        read();
        return "accepted";
    } catch (const MessageError &e) {
        return QByteArray::fromStdString(std::string(e.what()));
    }
}

const TimePoint authTime = *parseRfc3339("2026-11-24T16:07:02Z");
const TimePoint expiresAt = *parseRfc3339("2026-11-25T00:07:02Z");

json signedInStatus()
{
    return {{"enrolled", true},
            {"user_id", "3f6c1e2a-9b4d-4c8e-a7f1-0d2b5e8c9a41"},
            {"name", "alice"},
            {"key_assurance", "tpm"},
            {"pin_attempts_left", 5},
            {"pin_locked_out_seconds", nullptr},
            {"totp", "active"},
            {"signed_in", true},
            {"auth_time", "2026-11-24T16:07:02Z"},
            {"expires_at", "2026-11-25T00:07:02Z"},
            {"amr", {"hwk", "pin", "mfa"}},
            {"warn_before_seconds", 300}};
}

json signedOutStatus()
{
    json status = signedInStatus();
    for (const char *name : {"auth_time", "expires_at", "amr", "warn_before_seconds"})
        status.erase(name);
    status["signed_in"] = false;
    return status;
}

json prompt()
{
    return {{"id", "p-1"},
            {"kind", "sign_in"},
            {"reason", "expiring"},
            {"factors", {"pin", "otp"}},
            {"expires_at", "2026-11-25T00:07:02Z"}};
}

} // namespace

class TestIpcMfa : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void roundTrips_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::newRow("mfa_status") << line(request("mfa_status", json::object()));
        QTest::newRow("mfa_enroll")
            << line(request("mfa_enroll", {{"invite_code", "vgl_inv_7Q2mX9"}, {"pin", "271828"}}));
        QTest::newRow("mfa_pin_change")
            << line(request("mfa_pin_change", {{"new_pin", "314159"}, {"pin", "271828"}}));
        QTest::newRow("mfa_pin_reset") << line(
            request("mfa_pin_reset", {{"new_pin", "314159"}, {"recovery_code", "ABCD-EFGH-IJKL"}}));
        QTest::newRow("mfa_totp_begin") << line(request("mfa_totp_begin", {{"pin", "271828"}}));
        QTest::newRow("mfa_totp_activate")
            << line(request("mfa_totp_activate", {{"code", "012345"}, {"pin", "271828"}}));
        QTest::newRow("mfa_recovery_codes")
            << line(request("mfa_recovery_codes", {{"pin", "two words é"}}));
        QTest::newRow("sign_in pin") << line(request("sign_in", {{"pin", "271828"}}));
        QTest::newRow("sign_in otp") << line(request("sign_in", {{"otp", "000000"}}));
        QTest::newRow("sign_in both")
            << line(request("sign_in", {{"otp", "999999"}, {"pin", "271828"}}));
        QTest::newRow("sign_out") << line(request("sign_out", json::object()));
        QTest::newRow("user_token") << line(request("user_token", json::object()));
    }

    void roundTrips()
    {
        QFETCH(QByteArray, text);
        const Request parsed = parseRequest(text.toStdString());
        QCOMPARE(QByteArray::fromStdString(parsed.toJson().dump()), text);
        QVERIFY(isUserMethod(parsed.method));
        QVERIFY(!isPrivileged(parsed.method)); // every user enrolls and signs in their own
        QCOMPARE(methodFromName(methodName(parsed.method)), parsed.method);
    }

    void readsTheParams()
    {
        const Request enroll = parseRequest(
            line(request("mfa_enroll", {{"invite_code", "INV"}, {"pin", "123456"}})).toStdString());
        QCOMPARE(std::get<MfaEnrollParams>(enroll.params).inviteCode.reveal(), "INV");
        QCOMPARE(std::get<MfaEnrollParams>(enroll.params).pin.reveal(), "123456");
        // A recovery code is taken as people type it and kept as the verifier issued it.
        const Request reset =
            parseRequest(line(request("mfa_pin_reset", {{"recovery_code", " abcd efgh-ijkl"},
                                                        {"new_pin", "654321"}}))
                             .toStdString());
        QCOMPARE(std::get<PinResetParams>(reset.params).recoveryCode.reveal(), "ABCD-EFGH-IJKL");
        QCOMPARE(reset.toJson()["params"]["recovery_code"], "ABCD-EFGH-IJKL");
        const Request signIn =
            parseRequest(line(request("sign_in", {{"otp", "123456"}})).toStdString());
        const auto &factors = std::get<SignInParams>(signIn.params);
        QVERIFY(!factors.pin);
        QCOMPARE(factors.otp->reveal(), "123456");
        // A PIN is bytes of UTF-8: 32 bytes of four-byte characters is 8 characters.
        const std::string emoji = "\xF0\x9F\x94\x91";
        std::string longest;
        for (int i = 0; i < 8; ++i)
            longest += emoji;
        QCOMPARE(std::get<PinParams>(
                     parseRequest(line(request("mfa_totp_begin", {{"pin", longest}})).toStdString())
                         .params)
                     .pin.size(),
                 std::size_t(32));
    }

    void refusesEachFault_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<QByteArray>("expected");
        const auto row = [](const char *name, const json &value, const char *expected) {
            QTest::newRow(name) << line(value) << QByteArray(expected);
        };
        const char *pinLength = "invalid_params /params/pin: must be 6 to 32 bytes of UTF-8";
        row("pin 5 bytes", request("sign_in", {{"pin", "12345"}}), pinLength);
        row("pin 33 bytes", request("sign_in", {{"pin", std::string(33, '1')}}), pinLength);
        row("pin empty", request("mfa_totp_begin", {{"pin", ""}}), pinLength);
        row("pin a number", request("sign_in", {{"pin", 123456}}),
            "invalid_params /params/pin: must be a string");
        row("pin null", request("sign_in", {{"pin", nullptr}}),
            "invalid_params /params/pin: must be a string");
        row("pin with a newline", request("sign_in", {{"pin", "123\n456"}}),
            "invalid_params /params/pin: must not hold control characters");
        row("pin with NUL",
            request("sign_in", {{"pin", std::string("123\0"
                                                    "456",
                                                    7)}}),
            "invalid_params /params/pin: must not hold control characters");
        row("pin with DEL",
            request("sign_in", {{"pin", "123\x7f"
                                        "456"}}),
            "invalid_params /params/pin: must not hold control characters");
        row("new pin short", request("mfa_pin_change", {{"pin", "123456"}, {"new_pin", "1"}}),
            "invalid_params /params/new_pin: must be 6 to 32 bytes of UTF-8");
        row("new pin missing", request("mfa_pin_change", {{"pin", "123456"}}),
            "invalid_params /params/new_pin: missing");
        row("sign_in nothing", request("sign_in", json::object()),
            "invalid_params /params/pin: missing: sign_in needs \"pin\", \"otp\" or both");
        row("sign_in unknown", request("sign_in", {{"password", "123456"}}),
            "invalid_params /params/password: unknown member (expected one of: otp, pin)");
        const char *otp = "invalid_params /params/otp: must be exactly 6 digits 0-9";
        row("otp 5 digits", request("sign_in", {{"otp", "12345"}}), otp);
        row("otp 7 digits", request("sign_in", {{"otp", "1234567"}}), otp);
        row("otp a letter", request("sign_in", {{"otp", "12345a"}}), otp);
        row("otp spaced", request("sign_in", {{"otp", "123 45"}}), otp);
        row("otp arabic-indic digits", request("sign_in", {{"otp", "١٢٣٤٥٦"}}), otp);
        row("otp a number", request("sign_in", {{"otp", 123456}}),
            "invalid_params /params/otp: must be a string");
        row("code wrong", request("mfa_totp_activate", {{"pin", "123456"}, {"code", "-12345"}}),
            "invalid_params /params/code: must be exactly 6 digits 0-9");
        const char *recovery =
            "invalid_params /params/recovery_code: must be 12 characters A-Z and 2-7, as "
            "XXXX-XXXX-XXXX";
        row("recovery 11",
            request("mfa_pin_reset", {{"recovery_code", "ABCD-EFGH-IJK"}, {"new_pin", "123456"}}),
            recovery);
        row("recovery 13",
            request("mfa_pin_reset", {{"recovery_code", "ABCD-EFGH-IJKLM"}, {"new_pin", "123456"}}),
            recovery);
        row("recovery digit 1",
            request("mfa_pin_reset", {{"recovery_code", "ABCD-EFGH-IJK1"}, {"new_pin", "123456"}}),
            recovery);
        row("recovery padding",
            request("mfa_pin_reset", {{"recovery_code", "ABCD-EFGH-IJKL" + std::string(30, '-')},
                                      {"new_pin", "123456"}}),
            recovery);
        row("recovery empty",
            request("mfa_pin_reset", {{"recovery_code", ""}, {"new_pin", "123456"}}), recovery);
        const char *invite = "invalid_params /params/invite_code: must be 1 to 128 printable ASCII "
                             "characters without spaces";
        row("invite empty", request("mfa_enroll", {{"invite_code", ""}, {"pin", "123456"}}),
            invite);
        row("invite spaced", request("mfa_enroll", {{"invite_code", "a b"}, {"pin", "123456"}}),
            invite);
        row("invite non-ASCII", request("mfa_enroll", {{"invite_code", "é"}, {"pin", "123456"}}),
            invite);
        row("invite 129",
            request("mfa_enroll", {{"invite_code", std::string(129, 'i')}, {"pin", "123456"}}),
            invite);
        row("enroll without params", json{{"v", 1}, {"id", 7}, {"method", "mfa_enroll"}},
            "invalid_params /params: missing");
        row("mfa_status takes none", request("mfa_status", {{"uid", 0}}),
            "invalid_params /params/uid: unknown member (mfa_status takes no params)");
        row("user_token takes none", request("user_token", {{"user_id", "x"}}),
            "invalid_params /params/user_id: unknown member (user_token takes no params)");
        row("sign_out takes none", request("sign_out", {{"all", true}}),
            "invalid_params /params/all: unknown member (sign_out takes no params)");
    }

    void refusesEachFault()
    {
        QFETCH(QByteArray, text);
        QFETCH(QByteArray, expected);
        QCOMPARE(refusal(text), expected);
    }

    // Neither the log line nor an error ever holds a PIN, code or invite.
    void secretsReachNoLogLineNorError()
    {
        const json requests[] = {
            request("mfa_enroll", {{"invite_code", "SECRETINVITE"}, {"pin", "SECRETPIN1"}}),
            request("mfa_pin_change", {{"pin", "SECRETPIN1"}, {"new_pin", "SECRETPIN2"}}),
            request("mfa_pin_reset",
                    {{"recovery_code", "SECR-ETCO-DEAA"}, {"new_pin", "SECRETPIN2"}}),
            request("mfa_totp_begin", {{"pin", "SECRETPIN1"}}),
            request("mfa_totp_activate", {{"pin", "SECRETPIN1"}, {"code", "987654"}}),
            request("mfa_recovery_codes", {{"pin", "SECRETPIN1"}}),
            request("sign_in", {{"pin", "SECRETPIN1"}, {"otp", "987654"}}),
        };
        for (const json &value : requests) {
            const std::string text = describe(parseRequest(value.dump()));
            QVERIFY2(text.find("SECRET") == std::string::npos &&
                         text.find("SECR-") == std::string::npos &&
                         text.find("987654") == std::string::npos,
                     text.c_str());
        }
        QCOMPARE(describe(parseRequest(requests[6].dump())), "sign_in (id 7) with pin and otp");
        QCOMPARE(describe(parseRequest(requests[0].dump())), "mfa_enroll (id 7)");
        // Refused values are never quoted, however they fail.
        const json refused[] = {
            request("sign_in", {{"pin", "SECRET"}, {"otp", "SECRET"}}),
            request("sign_in", {{"pin", "SECRET-" + std::string(40, 'S')}}),
            request("sign_in", {{"pin", "SECRET\n"}}),
            request("mfa_pin_reset", {{"recovery_code", "SECRET-0000"}, {"new_pin", "SECRET"}}),
            request("mfa_enroll", {{"invite_code", "SECRET INVITE"}, {"pin", "SECRET"}}),
            request("mfa_enroll", {{"pin", "SECRETPIN"}, {"invite_code", "SECRET"}, {"x", 1}}),
        };
        for (const json &value : refused) {
            const QByteArray answer = refusal(line(value));
            QVERIFY2(answer.startsWith("invalid_params") && !answer.contains("SECRET"),
                     answer.constData());
        }
    }

    void secretTextWipesItself()
    {
        for (const std::size_t size : {std::size_t(8), std::size_t(40)}) { // inline and on the heap
            std::string text(size, 'P');
            const char *bytes = text.data();
            wipeString(text);
            QVERIFY(text.empty());
            QVERIFY(text.capacity() >= size);
            for (std::size_t i = 0; i < size; ++i)
                QCOMPARE(bytes[i], '\0');
        }
        SecretText pin(std::string("271828"));
        SecretText moved(std::move(pin));
        QCOMPARE(moved.reveal(), "271828");
        QVERIFY(pin.empty()); // NOLINT(bugprone-use-after-move): what a move leaves
        SecretText copy = moved;
        QCOMPARE(copy, moved);
        json parsed = json::parse("{\"a\":[\"SECRET\",{\"b\":\"SECRET\"}],\"c\":1}");
        wipeJsonStrings(parsed);
        QVERIFY(parsed.is_null());
    }

    void resultsRoundTrip()
    {
        const json notEnrolled = {{"enrolled", false}};
        for (const json &value : {notEnrolled, signedOutStatus(), signedInStatus()})
            QCOMPARE(MfaStatus::fromJson(value, "/result").toJson(), value);
        const MfaStatus status = MfaStatus::fromJson(signedInStatus(), "/result");
        QCOMPARE(status.user->name, "alice");
        QCOMPARE(*status.user->pinAttemptsLeft, 5);
        QVERIFY(!status.user->pinLockedOutSeconds);
        QCOMPARE(status.user->totp, TotpState::Active);
        QCOMPARE(status.user->session->authTime, authTime);
        QCOMPARE(status.user->session->expiresAt, expiresAt);
        QCOMPARE(status.user->session->amr, (std::vector<std::string>{"hwk", "pin", "mfa"}));
        QVERIFY(!MfaStatus::fromJson(signedOutStatus(), "/result").user->session);

        const json totp = {
            {"otpauth_uri", "otpauth://totp/Vigil:alice?secret=JBSWY3DPEHPK3PXP&issuer=Vigil"},
            {"expires_at", "2026-11-24T16:22:02Z"}};
        QCOMPARE(TotpBeginResult::fromJson(totp, "/result").toJson(), totp);
        const json codes = {{"recovery_codes", {"ABCD-EFGH-IJKL", "MNOP-QRST-UVWX"}}};
        QCOMPARE(RecoveryCodesResult::fromJson(codes, "/result").toJson(), codes);
        const json token = {{"access_token", "a.b.c"},
                            {"token_type", "DPoP"},
                            {"expires_in", 300},
                            {"auth_time", "2026-11-24T16:07:02Z"},
                            {"amr", {"otp"}}};
        QCOMPARE(UserTokenResult::fromJson(token, "/result").toJson(), token);
        QCOMPARE(EmptyResult::fromJson(json::object(), "/result").toJson(), json::object());
    }

    void resultsAreStrict_data()
    {
        QTest::addColumn<QByteArray>("fault");
        QTest::addColumn<QByteArray>("expected");
        const auto status = [](json value) {
            return resultFault([value] { MfaStatus::fromJson(value, "/result"); });
        };
        json withSession = signedOutStatus();
        withSession["amr"] = {"pin"};
        json badAmr = signedInStatus();
        badAmr["amr"] = {"pwd"};
        json twiceAmr = signedInStatus();
        twiceAmr["amr"] = {"pin", "pin"};
        json noAmr = signedInStatus();
        noAmr["amr"] = json::array();
        json upperUuid = signedInStatus();
        upperUuid["user_id"] = "3F6C1E2A-9B4D-4C8E-A7F1-0D2B5E8C9A41";
        json badTotp = signedInStatus();
        badTotp["totp"] = "enabled";
        json missingAttempts = signedOutStatus();
        missingAttempts.erase("pin_attempts_left");
        QTest::newRow("not enrolled with a name")
            << status({{"enrolled", false}, {"name", "alice"}})
            << QByteArray("/result/name: unknown member (expected one of: enrolled)");
        QTest::newRow("signed out with amr")
            << status(withSession)
            << QByteArray(
                   "/result/amr: unknown member (expected one of: enrolled, key_assurance, "
                   "name, pin_attempts_left, pin_locked_out_seconds, signed_in, totp, user_id)");
        QTest::newRow("amr unknown")
            << status(badAmr)
            << QByteArray("/result/amr/0: must be one of hwk, swk, pin, otp, mfa");
        QTest::newRow("amr twice")
            << status(twiceAmr) << QByteArray("/result/amr/1: given more than once");
        QTest::newRow("amr empty")
            << status(noAmr) << QByteArray("/result/amr: must name at least one method");
        QTest::newRow("upper-case uuid")
            << status(upperUuid) << QByteArray("/result/user_id: must be a lower-case UUID");
        QTest::newRow("totp state")
            << status(badTotp)
            << QByteArray("/result/totp: must be \"none\", \"pending\" or \"active\"");
        QTest::newRow("attempts missing")
            << status(missingAttempts) << QByteArray("/result/pin_attempts_left: missing");
        QTest::newRow("enrolled missing")
            << status(json::object()) << QByteArray("/result/enrolled: missing");
        QTest::newRow("codes lower case") << resultFault([] {
            RecoveryCodesResult::fromJson({{"recovery_codes", {"abcd-efgh-ijkl"}}}, "/result");
        }) << QByteArray("/result/recovery_codes/0: must be XXXX-XXXX-XXXX of A-Z and 2-7");
        QTest::newRow("codes empty") << resultFault([] {
            RecoveryCodesResult::fromJson({{"recovery_codes", json::array()}}, "/result");
        }) << QByteArray("/result/recovery_codes: must hold at least one code");
        QTest::newRow("uri not otpauth") << resultFault([] {
            TotpBeginResult::fromJson(
                {{"otpauth_uri", "https://x"}, {"expires_at", "2026-11-24T16:22:02Z"}}, "/result");
        }) << QByteArray("/result/otpauth_uri: must start with otpauth://totp/");
        QTest::newRow("token type") << resultFault([] {
            UserTokenResult::fromJson({{"access_token", "a"},
                                       {"token_type", "Bearer"},
                                       {"expires_in", 300},
                                       {"auth_time", "2026-11-24T16:07:02Z"},
                                       {"amr", {"otp"}}},
                                      "/result");
        }) << QByteArray("/result/token_type: must be \"DPoP\"");
        QTest::newRow("token lifetime") << resultFault([] {
            UserTokenResult::fromJson({{"access_token", "a"},
                                       {"token_type", "DPoP"},
                                       {"expires_in", 0},
                                       {"auth_time", "2026-11-24T16:07:02Z"},
                                       {"amr", {"otp"}}},
                                      "/result");
        }) << QByteArray("/result/expires_in: must be an integer from 1 to 3600");
        QTest::newRow("empty result with a member") << resultFault([] {
            EmptyResult::fromJson({{"done", true}}, "/result");
        }) << QByteArray("/result/done: unknown member (the result has none)");
    }

    void resultsAreStrict()
    {
        QFETCH(QByteArray, fault);
        QFETCH(QByteArray, expected);
        QCOMPARE(fault, expected);
    }

    void promptEventsRoundTrip()
    {
        const json event = {{"v", 1}, {"event", "prompt"}, {"data", {{"prompt", prompt()}}}};
        const ServerMessage message = parseServerMessage(event.dump());
        const auto &read = std::get<PromptEvent>(message).prompt;
        QCOMPARE(read.id, "p-1");
        QCOMPARE(read.reason, PromptReason::Expiring);
        QCOMPARE(read.factors, (std::vector<Factor>{Factor::Pin, Factor::Otp}));
        QCOMPARE(*read.expiresAt, expiresAt);
        QCOMPARE(std::get<PromptEvent>(message).toJson(), event);
        json unlock = prompt();
        unlock.erase("expires_at");
        unlock["reason"] = "unlock";
        QCOMPARE(Prompt::fromJson(unlock, "/data/prompt").toJson(), unlock);
        const json closed = {{"v", 1}, {"event", "prompt_closed"}, {"data", {{"id", "p-1"}}}};
        QCOMPARE(std::get<PromptClosedEvent>(parseServerMessage(closed.dump())).toJson(), closed);
    }

    void promptEventsAreStrict_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<QByteArray>("expected");
        const auto row =
            [](const char *name, const char *member, json value, const char *expected) {
                json changed = prompt();
                if (value.is_null())
                    changed.erase(member);
                else
                    changed[member] = std::move(value);
                QTest::newRow(name)
                    << line({{"v", 1}, {"event", "prompt"}, {"data", {{"prompt", changed}}}})
                    << QByteArray(expected);
            };
        row("kind", "kind", "unlock_disk", "/data/prompt/kind: must be \"sign_in\"");
        row("reason", "reason", "logout",
            "/data/prompt/reason: must be \"unlock\", \"resume\", \"expired\" or \"expiring\"");
        row("factor", "factors", {"pin", "fido"},
            "/data/prompt/factors/1: must be \"pin\" or \"otp\"");
        row("factor twice", "factors", {"otp", "otp"},
            "/data/prompt/factors/1: given more than once");
        row("no factor", "factors", json::array(),
            "/data/prompt/factors: must name at least one factor");
        row("id with a space", "id", "p 1", "/data/prompt/id: must be of A-Z a-z 0-9 - _");
        row("id missing", "id", nullptr, "/data/prompt/id: missing");
        row("extra", "user", "alice",
            "/data/prompt/user: unknown member (expected one of: expires_at, factors, id, kind, "
            "reason)");
        QTest::newRow("data extra")
            << line(
                   {{"v", 1}, {"event", "prompt"}, {"data", {{"prompt", prompt()}, {"uid", 1000}}}})
            << QByteArray("/data/uid: unknown member (expected one of: prompt)");
        QTest::newRow("closed id")
            << line({{"v", 1}, {"event", "prompt_closed"}, {"data", {{"id", "p/1"}}}})
            << QByteArray("/data/id: must be of A-Z a-z 0-9 - _");
        QTest::newRow("unknown event")
            << line({{"v", 1}, {"event", "mfa_prompt"}, {"data", json::object()}})
            << QByteArray("/event: unknown event \"mfa_prompt\" (expected one of: state, prompt, "
                          "prompt_closed)");
    }

    void promptEventsAreStrict()
    {
        QFETCH(QByteArray, text);
        QFETCH(QByteArray, expected);
        QCOMPARE(resultFault([&] { parseServerMessage(text.toStdString()); }), expected);
    }

    void newErrorCodesHaveTheirNames()
    {
        const std::pair<ErrorCode, const char *> codes[] = {
            {ErrorCode::WrongPin, "wrong_pin"},
            {ErrorCode::PinLocked, "pin_locked"},
            {ErrorCode::NotEnrolledUser, "not_enrolled_user"},
            {ErrorCode::AuthenticationRequired, "authentication_required"},
            {ErrorCode::InvalidCode, "invalid_code"},
            {ErrorCode::Refused, "refused"},
        };
        for (const auto &[code, name] : codes) {
            QCOMPARE(errorCodeName(code), std::string_view(name));
            QCOMPARE(errorCodeFromName(name), code);
        }
    }
};

QTEST_APPLESS_MAIN(TestIpcMfa)
#include "tst_ipcmfa.moc"
