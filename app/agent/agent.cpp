#include "app/agent/agent.h"

#include "app/agent/agentlogging.h"
#include "app/agent/workerthread.h"
#include "app/client/devicesession.h"
#include "app/client/enrollmenttoken.h"
#include "attestation/tpm/tpmerror.h"
#include "core/keyerror.h"
#include "posture/host/host.h"
#include "posture/postureengine.h"
#include "posture/standardcollectors.h"
#include "protocol/ipc/response.h"
#include "protocol/jose/dpop.h"
#include "protocol/jose/jose.h"

#include <algorithm>
#include <climits>
#include <sstream>
#include <sys/stat.h>
#include <system_error>

namespace vigil::agent {

namespace ipc = protocol::ipc;
using namespace std::chrono_literals;

// What the device thread keeps: the device key, its TPM and the verifier connection.
struct DeviceContext
{
    std::filesystem::path stateDirectory;
    std::string tcti;
    app::HttpsTransportOptions transport;
    std::optional<app::DeviceSession> session;

    app::DeviceSession &open()
    {
        if (!session)
            session.emplace(app::openDeviceSession(
                stateDirectory, [this] { return app::loadDevice(tcti, stateDirectory); },
                transport));
        return *session;
    }
};

// What the posture thread keeps: one engine, so its collectors' caches last between reports.
struct PostureContext
{
    std::unique_ptr<posture::PostureEngine> engine;

    nlohmann::json collect()
    {
        if (!engine)
            engine = std::make_unique<posture::PostureEngine>(
                std::make_shared<const posture::Host>(posture::Host::local()),
                posture::standardCollectors());
        return engine->collect().toJson();
    }
};

namespace {

// The status carries text of at most 4096 bytes per member (docs/ipc.md, "Limits"); a reason
// is one line for people, so it is cut well below that.
std::string oneLine(std::string text)
{
    constexpr std::size_t maxLength = 1024;
    std::replace_if(
        text.begin(), text.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
    if (text.size() > maxLength)
        text = text.substr(0, maxLength - 3) + "...";
    return text;
}

std::string failingChecksReason(const std::vector<protocol::AppraisalCheck> &failing)
{
    std::string ids;
    for (const auto &check : failing)
        ids += (ids.empty() ? "" : ", ") + check.id;
    return std::to_string(failing.size()) +
           (failing.size() == 1 ? " check fails: " : " checks fail: ") + ids;
}

std::string timeOfDay(std::chrono::system_clock::time_point time)
{
    const std::string iso = toIso8601(time);
    return iso.substr(11, 8) + " UTC";
}

ipc::Error error(ipc::ErrorCode code, std::string message)
{
    return ipc::Error{code, oneLine(std::move(message)), {}};
}

} // namespace

Agent::Agent(AgentOptions options, const Clock &clock, QObject *parent)
    : AgentRequests(parent), m_options(std::move(options)), m_clock(clock),
      m_schedule(clock, m_options.schedule), m_tokens(clock),
      m_device(std::make_unique<DeviceContext>()), m_posture(std::make_unique<PostureContext>()),
      m_deviceThread(std::make_unique<WorkerThread>(QStringLiteral("vigild-device"))),
      m_postureThread(std::make_unique<WorkerThread>(QStringLiteral("vigild-posture")))
{
    m_options.transport.proxy = m_options.config.proxy;
    m_device->stateDirectory = m_options.config.stateDirectory;
    m_device->tcti = m_options.config.tcti;
    m_device->transport = m_options.transport;
    for (QTimer *timer : {&m_reportTimer, &m_refreshTimer, &m_missedTimer})
        timer->setSingleShot(true);
    connect(&m_reportTimer, &QTimer::timeout, this, &Agent::onTimer);
    connect(&m_refreshTimer, &QTimer::timeout, this, [this] {
        if (m_status.state == ipc::AgentState::Compliant)
            fetchToken();
    });
    connect(&m_missedTimer, &QTimer::timeout, this,
            [this] { dropToken("no report reached the verifier by the time it asked for one"); });
}

Agent::~Agent()
{
    // Join first: a job still running must not outlive what it uses.
    m_postureThread.reset();
    m_deviceThread.reset();
}

void Agent::start()
{
    std::optional<app::EnrollmentState> state;
    try {
        state = app::EnrollmentStore(m_options.config.stateDirectory).load();
    } catch (const std::exception &e) {
        qCCritical(lcAgent, "cannot read the enrollment: %s", e.what());
        update([&](ipc::Status &status) {
            status.state = ipc::AgentState::Error;
            status.reason = oneLine(e.what());
        });
        return;
    }
    if (!state) {
        considerEnrollment();
        return;
    }
    qCInfo(lcAgent, "enrolled as device %s with %s (assurance %s)", state->deviceId.c_str(),
           state->serverUrl.c_str(),
           std::string(protocol::assuranceName(state->assurance)).c_str());
    update([&](ipc::Status &status) {
        status.enrollment =
            ipc::EnrollmentInfo{state->deviceId, state->assurance, state->serverUrl};
    });
    m_schedule.reportSoon();
    armTimers();
}

void Agent::trigger(const char *why)
{
    if (!enrolled() || m_status.state == ipc::AgentState::Revoked)
        return;
    qCInfo(lcAgent, "%s: reporting soon", why);
    if (m_reportInFlight)
        m_reportAgain = true;
    else
        m_schedule.triggered();
    armTimers();
}

namespace {

std::optional<std::string> fileIdentity(const std::filesystem::path &file)
{
    struct stat status
    {
    };
    if (::stat(file.c_str(), &status) != 0)
        return std::nullopt;
    return std::to_string(status.st_dev) + ":" + std::to_string(status.st_ino) + ":" +
           std::to_string(status.st_size) + ":" + std::to_string(status.st_ctim.tv_sec) + "." +
           std::to_string(status.st_ctim.tv_nsec);
}

} // namespace

void Agent::enrollmentTokenMayHaveChanged()
{
    if (m_triedTokenFile && fileIdentity(m_options.enrollmentTokenFile) == m_triedTokenFile)
        return;
    considerEnrollment();
}

void Agent::considerEnrollment()
{
    if (m_enrolling || (enrolled() && m_status.state != ipc::AgentState::Revoked))
        return;
    // An enrollment that could not be read is never overwritten by a new one.
    if (!enrolled() && m_status.state == ipc::AgentState::Error)
        return;
    if (std::filesystem::exists(m_options.enrollmentTokenFile)) {
        tryEnrollment(std::nullopt, std::nullopt);
        return;
    }
    m_schedule.stop();
    armTimers();
    if (enrolled())
        return; // revoked: the status says what to do
    const std::string blocker = m_options.config.enrollmentBlocker();
    update([&](ipc::Status &status) {
        status.state = ipc::AgentState::NotEnrolled;
        status.reason = "not enrolled: put the enrollment token in " +
                        m_options.enrollmentTokenFile.string() +
                        " or run vigilctl enroll --token-file FILE" +
                        (blocker.empty() ? "" : "; first " + blocker);
    });
}

void Agent::tryEnrollment(std::optional<std::string> token, std::optional<Reply> reply)
{
    const bool fromFile = !token;
    const std::string blocker = m_options.config.enrollmentBlocker();
    if (!blocker.empty()) {
        const std::string message = "cannot enroll: " + blocker;
        if (reply)
            (*reply)(error(ipc::ErrorCode::Unavailable, message));
        m_schedule.stop();
        armTimers();
        update([&](ipc::Status &status) {
            status.state = ipc::AgentState::NotEnrolled;
            status.reason = oneLine(message);
        });
        return;
    }
    if (fromFile) {
        m_triedTokenFile = fileIdentity(m_options.enrollmentTokenFile);
        std::ostringstream warnings;
        std::istringstream noInput;
        try {
            token = app::readEnrollmentToken(m_options.enrollmentTokenFile, noInput, warnings);
        } catch (const std::exception &e) {
            qCWarning(lcAgent, "%s", e.what());
            m_schedule.stop();
            armTimers();
            update([&](ipc::Status &status) {
                status.state = ipc::AgentState::NotEnrolled;
                status.reason = oneLine(e.what());
            });
            return;
        }
        if (!warnings.str().empty())
            qCWarning(lcAgent, "%s", oneLine(warnings.str()).c_str());
    }

    m_enrolling = true;
    m_enrollWaiter = std::move(reply);
    armTimers();
    const std::string serverUrl = *m_options.config.serverUrl;
    qCInfo(lcAgent, "enrolling with %s%s", serverUrl.c_str(),
           fromFile ? (" (token from " + m_options.enrollmentTokenFile.string() + ")").c_str()
                    : " (token from a local client)");
    update([&](ipc::Status &status) {
        status.state = ipc::AgentState::Enrolling;
        status.reason = "enrolling with " + serverUrl;
        status.enrollment.reset();
        status.lastVerdict.reset();
    });
    app::EnrollmentRequest request;
    request.serverUrl = serverUrl;
    request.token = std::move(*token);
    const VigildConfig config = m_options.config;
    DeviceContext *device = m_device.get();
    m_deviceThread->run<app::EnrollmentState>(
        this,
        [device, config, request]() mutable {
            device->session.reset();
            request.ca = app::readCaFile(*config.caFile, config.caFingerprint);
            app::Device key = app::loadDevice(device->tcti, device->stateDirectory);
            const app::Enrolled enrolled =
                app::enrollDevice(device->stateDirectory, key, request, device->transport);
            // The key that enrolled stays loaded (a TPM without a resource manager has few
            // slots). Should the session not open, the device is enrolled all the same: the
            // first report opens it and says what is wrong.
            try {
                device->session.emplace(app::openDeviceSession(
                    device->stateDirectory, [&key] { return std::move(key); }, device->transport));
            } catch (const std::exception &) {
            }
            return enrolled.state;
        },
        [this, fromFile](JobResult<app::EnrollmentState> result) {
            m_enrolling = false;
            if (result.error) {
                const Failure failure = classify(result.error);
                if (fromFile) {
                    const auto wait = m_schedule.failed(failure.retryAfter);
                    qCWarning(lcAgent, "enrollment failed: %s; trying again in %lld s",
                              failure.message.c_str(), static_cast<long long>(wait.count()));
                    update([&](ipc::Status &status) {
                        if (failure.kind != FailureKind::Local) {
                            status.verifierReachable = failure.kind != FailureKind::Unreachable;
                            status.verifierLastError = oneLine(failure.message);
                        }
                        status.state = ipc::AgentState::Enrolling;
                        status.reason =
                            oneLine("enrollment failed: " + failure.message + "; trying again at " +
                                    timeOfDay(m_clock.now() + wait));
                    });
                } else {
                    qCWarning(lcAgent, "enrollment failed: %s", failure.message.c_str());
                    considerEnrollment();
                }
                if (m_enrollWaiter) {
                    (*m_enrollWaiter)(error(failure.kind == FailureKind::Local
                                                ? ipc::ErrorCode::Internal
                                                : ipc::ErrorCode::Unavailable,
                                            "enrollment failed: " + failure.message));
                    m_enrollWaiter.reset();
                }
                armTimers();
                return;
            }
            const app::EnrollmentState &state = *result.value;
            qCInfo(lcAgent, "enrolled as device %s (assurance %s)", state.deviceId.c_str(),
                   std::string(protocol::assuranceName(state.assurance)).c_str());
            if (fromFile) {
                std::error_code removeError;
                std::filesystem::remove(m_options.enrollmentTokenFile, removeError);
                if (removeError)
                    qCWarning(lcAgent, "cannot remove %s, which is no longer needed: %s",
                              m_options.enrollmentTokenFile.c_str(), removeError.message().c_str());
            }
            update([&](ipc::Status &status) {
                status.enrollment =
                    ipc::EnrollmentInfo{state.deviceId, state.assurance, state.serverUrl};
                status.reason = "enrolled; reporting";
            });
            startReport();
        });
}

void Agent::startReport()
{
    if (m_reportInFlight) {
        m_reportAgain = true;
        return;
    }
    m_reportInFlight = true;
    armTimers();
    const auto startedAt = m_clock.now();
    PostureContext *posture = m_posture.get();
    m_postureThread->run<nlohmann::json>(
        this, [posture] { return posture->collect(); },
        [this, startedAt](JobResult<nlohmann::json> collected) {
            if (collected.error) {
                reportDone(std::nullopt, collected.error);
                return;
            }
            DeviceContext *device = m_device.get();
            m_deviceThread->run<protocol::Appraisal>(
                this,
                [device, snapshot = std::move(*collected.value)] {
                    return app::reportPosture(*device->open().client, snapshot);
                },
                [this, startedAt](JobResult<protocol::Appraisal> result) {
                    if (!result.error)
                        m_status.lastReportAt = startedAt;
                    reportDone(std::move(result.value), result.error);
                });
        });
}

void Agent::reportDone(std::optional<protocol::Appraisal> appraisal,
                       const std::exception_ptr &failed)
{
    m_reportInFlight = false;
    std::optional<ipc::Error> waiterError;
    if (appraisal) {
        std::vector<protocol::AppraisalCheck> failing;
        for (const auto &check : appraisal->checks)
            if (check.status == protocol::CheckOutcome::Fail)
                failing.push_back(check);
        const bool compliant = appraisal->verdict == protocol::Verdict::Compliant;
        qCInfo(lcAgent, "verdict %s%s",
               std::string(protocol::verdictName(appraisal->verdict)).c_str(),
               failing.empty() ? "" : (" (" + failingChecksReason(failing) + ")").c_str());
        m_schedule.succeeded(appraisal->nextReportAt);
        const auto untilMissed = appraisal->nextReportAt - m_clock.now();
        m_missedTimer.start(static_cast<int>(std::clamp<long long>(
            std::chrono::duration_cast<std::chrono::milliseconds>(untilMissed).count(), 0,
            INT_MAX)));
        update([&](ipc::Status &status) {
            status.state = compliant ? ipc::AgentState::Compliant : ipc::AgentState::NonCompliant;
            status.reason = compliant ? "" : oneLine(failingChecksReason(failing));
            status.lastVerdict =
                ipc::LastVerdict{appraisal->verdict, appraisal->appraisedAt, failing};
            status.verifierReachable = true;
            status.verifierLastError.clear();
        });
        if (!compliant)
            dropToken("the device is not compliant: " + failingChecksReason(failing));
        else if (!m_tokens.current() || m_tokens.refreshDue() <= m_clock.now())
            fetchToken();
    } else {
        const Failure failure = classify(failed);
        if (failure.kind == FailureKind::Revoked) {
            revoked(failure.message);
            waiterError = error(ipc::ErrorCode::Unavailable, m_status.reason);
        } else {
            const auto wait = m_schedule.failed(failure.retryAfter);
            const std::string retry = "; trying again at " + timeOfDay(m_clock.now() + wait);
            qCWarning(lcAgent, "report failed: %s; trying again in %lld s", failure.message.c_str(),
                      static_cast<long long>(wait.count()));
            update([&](ipc::Status &status) {
                switch (failure.kind) {
                case FailureKind::Unreachable:
                    status.state = ipc::AgentState::Offline;
                    status.reason = oneLine("the verifier cannot be reached" + retry);
                    status.verifierReachable = false;
                    status.verifierLastError = oneLine(failure.message);
                    break;
                case FailureKind::Refused:
                    status.state = ipc::AgentState::Error;
                    status.reason =
                        oneLine("the verifier refused the report: " + failure.message + retry);
                    status.verifierReachable = true;
                    status.verifierLastError = oneLine(failure.message);
                    break;
                default:
                    status.state = ipc::AgentState::Error;
                    status.reason = oneLine(failure.message + retry);
                    break;
                }
            });
            waiterError = error(failure.kind == FailureKind::Local ? ipc::ErrorCode::Internal
                                                                   : ipc::ErrorCode::Unavailable,
                                failure.kind == FailureKind::Unreachable
                                    ? "the verifier cannot be reached: " + failure.message
                                    : "the report failed: " + failure.message);
        }
    }
    if (m_reportAgain) {
        m_reportAgain = false;
        m_schedule.triggered();
    }
    armTimers();
    // An enrollment is answered with the status after its first report, whatever the report
    // came to: the enrollment itself succeeded.
    if (m_enrollWaiter) {
        if (waiterError)
            (*m_enrollWaiter)(status().toJson());
        else
            m_reportWaiters.push_back(std::move(*m_enrollWaiter));
        m_enrollWaiter.reset();
    }
    if (waiterError) {
        failReportWaiters(*waiterError);
    } else if (m_fetchingToken) {
        std::move(m_reportWaiters.begin(), m_reportWaiters.end(),
                  std::back_inserter(m_statusWaiters));
        m_reportWaiters.clear();
    } else {
        answerReportWaiters();
    }
}

void Agent::fetchToken()
{
    if (m_fetchingToken)
        return;
    m_fetchingToken = true;
    DeviceContext *device = m_device.get();
    m_deviceThread->run<protocol::TokenResponse>(
        this, [device] { return device->open().client->token(); },
        [this](JobResult<protocol::TokenResponse> result) {
            tokenFetched(std::move(result.value), result.error);
        });
}

void Agent::tokenFetched(std::optional<protocol::TokenResponse> token,
                         const std::exception_ptr &failed)
{
    m_fetchingToken = false;
    std::vector<Reply> waiters = std::move(m_tokenWaiters);
    m_tokenWaiters.clear();
    std::optional<ipc::Error> refusal;
    if (token && m_status.state == ipc::AgentState::Compliant) {
        m_tokens.store(*token);
        qCInfo(lcAgent, "access token fetched, valid for %lld s",
               static_cast<long long>(token->expiresIn.count()));
        update([&](ipc::Status &status) { status.tokenExpiresAt = m_tokens.current()->expiresAt; });
    } else if (token) {
        // The verdict turned while the token was on its way.
        refusal = error(ipc::ErrorCode::Unavailable, m_tokens.whyNone());
    } else {
        const Failure failure = classify(failed);
        refusal = error(ipc::ErrorCode::Unavailable, "no access token: " + failure.message);
        qCWarning(lcAgent, "no access token: %s", failure.message.c_str());
        if (failure.kind == FailureKind::Revoked) {
            revoked(failure.message);
        } else if (failure.kind == FailureKind::Refused) {
            // not_compliant, report_stale: the verifier's view is not the one held here, so
            // report again and take its verdict.
            dropToken("no access token: " + failure.message);
            m_schedule.triggered();
        } else if (const auto held = m_tokens.current()) {
            // Keep the token while it lasts and try again in a while.
            const auto retry = std::min(held->expiresAt, m_clock.now() + std::chrono::seconds(30));
            m_refreshTimer.start(static_cast<int>(
                std::chrono::duration_cast<std::chrono::milliseconds>(retry - m_clock.now())
                    .count()));
        }
    }
    armTimers();
    std::vector<Reply> statusWaiters = std::move(m_statusWaiters);
    m_statusWaiters.clear();
    for (auto &reply : statusWaiters)
        reply(status().toJson());
    for (auto &reply : waiters) {
        if (refusal)
            reply(*refusal);
        else
            reply(ipc::TokenResult{m_tokens.current()->accessToken, m_tokens.current()->expiresAt}
                      .toJson());
    }
}

void Agent::dropToken(std::string reason)
{
    if (m_tokens.current())
        qCInfo(lcAgent, "access token dropped: %s", reason.c_str());
    m_tokens.drop(oneLine(std::move(reason)));
    m_refreshTimer.stop();
    update([](ipc::Status &status) { status.tokenExpiresAt.reset(); });
}

void Agent::revoked(const std::string &message)
{
    qCWarning(lcAgent, "the verifier no longer accepts this device: %s", message.c_str());
    dropToken("the device is revoked");
    m_schedule.stop();
    m_missedTimer.stop();
    update([&](ipc::Status &status) {
        status.state = ipc::AgentState::Revoked;
        status.reason = oneLine("the verifier no longer accepts this device (" + message +
                                "); ask your administrator for a new enrollment token, then run "
                                "vigilctl enroll --token-file FILE");
        status.verifierReachable = true;
        status.verifierLastError = oneLine(message);
    });
}

void Agent::onTimer()
{
    if (enrolled() && m_status.state != ipc::AgentState::Revoked)
        startReport();
    else if (!m_enrolling)
        considerEnrollment();
}

void Agent::armTimers()
{
    const auto now = m_clock.now();
    const auto arm = [&](QTimer &timer, std::optional<std::chrono::system_clock::time_point> at) {
        if (!at) {
            timer.stop();
            return;
        }
        const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(*at - now);
        timer.start(static_cast<int>(std::clamp<long long>(wait.count(), 0, INT_MAX)));
    };
    const bool busy = m_reportInFlight || m_enrolling;
    arm(m_reportTimer, busy ? std::nullopt : m_schedule.due());
    if (!m_fetchingToken && !m_refreshTimer.isActive())
        arm(m_refreshTimer, m_tokens.refreshDue());
    const bool reporting = enrolled() && m_status.state != ipc::AgentState::Revoked;
    update([&](ipc::Status &status) {
        status.nextReportAt = reporting ? m_schedule.due() : std::nullopt;
        if (status.nextReportAt)
            status.nextReportAt =
                std::chrono::time_point_cast<std::chrono::seconds>(*status.nextReportAt);
    });
}

template <typename Change> void Agent::update(Change &&change)
{
    const nlohmann::json before = m_status.toJson();
    change(m_status);
    if (m_status.toJson() != before)
        Q_EMIT statusChanged();
}

void Agent::answerReportWaiters()
{
    std::vector<Reply> waiters = std::move(m_reportWaiters);
    m_reportWaiters.clear();
    for (auto &reply : waiters)
        reply(status().toJson());
}

void Agent::failReportWaiters(const ipc::Error &failure)
{
    std::vector<Reply> waiters = std::move(m_reportWaiters);
    m_reportWaiters.clear();
    for (auto &reply : waiters)
        reply(failure);
}

Agent::Failure Agent::classify(const std::exception_ptr &error)
{
    try {
        std::rethrow_exception(error);
    } catch (const app::TransportError &e) {
        return {FailureKind::Unreachable, e.what(), {}};
    } catch (const app::VerifierError &e) {
        const bool revoked = e.code() == "device_revoked" || e.code() == "unknown_device";
        std::optional<std::chrono::seconds> retryAfter;
        if (e.retryAfterSeconds())
            retryAfter = std::chrono::seconds(*e.retryAfterSeconds());
        return {revoked ? FailureKind::Revoked : FailureKind::Refused, e.what(), retryAfter};
    } catch (const app::InvalidResponseError &e) {
        return {FailureKind::Refused, e.what(), {}};
    } catch (const std::exception &e) {
        return {FailureKind::Local, e.what(), {}};
    } catch (...) {
        return {FailureKind::Local, "unknown failure", {}};
    }
}

ipc::Status Agent::status() const
{
    ipc::Status status = m_status;
    const auto held = m_tokens.current();
    status.tokenExpiresAt = held ? std::optional(held->expiresAt) : std::nullopt;
    return status;
}

void Agent::posture(Reply reply)
{
    PostureContext *posture = m_posture.get();
    m_postureThread->run<nlohmann::json>(
        this, [posture] { return posture->collect(); },
        [reply = std::move(reply)](JobResult<nlohmann::json> result) {
            if (result.error)
                reply(error(ipc::ErrorCode::Internal,
                            "posture collection failed: " + classify(result.error).message));
            else
                reply(ipc::PostureResult{std::move(*result.value)}.toJson());
        });
}

void Agent::report(Reply reply)
{
    if (!enrolled()) {
        reply(error(ipc::ErrorCode::NotEnrolled,
                    "this device is not enrolled: vigilctl enroll --token-file FILE"));
        return;
    }
    m_reportWaiters.push_back(std::move(reply));
    startReport();
}

void Agent::token(Reply reply)
{
    if (!enrolled()) {
        reply(error(ipc::ErrorCode::NotEnrolled,
                    "this device is not enrolled: vigilctl enroll --token-file FILE"));
        return;
    }
    if (const auto held = m_tokens.current()) {
        reply(ipc::TokenResult{held->accessToken, held->expiresAt}.toJson());
        return;
    }
    if (m_status.state == ipc::AgentState::Compliant) {
        m_tokenWaiters.push_back(std::move(reply));
        fetchToken();
        return;
    }
    const std::string why = m_tokens.whyNone();
    reply(error(ipc::ErrorCode::Unavailable,
                "no access token: " + (m_status.reason.empty() ? why : m_status.reason)));
}

void Agent::dpop(ipc::DpopParams params, Reply reply)
{
    if (!enrolled()) {
        reply(error(ipc::ErrorCode::NotEnrolled,
                    "this device is not enrolled: vigilctl enroll --token-file FILE"));
        return;
    }
    DeviceContext *device = m_device.get();
    const Clock &clock = m_clock;
    m_deviceThread->run<std::string>(
        this,
        [device, &clock, params = std::move(params)] {
            protocol::DpopProofRequest request;
            request.htm = params.method;
            request.htu = params.url;
            request.iat = clock.now();
            request.accessToken = params.accessToken;
            return protocol::createDpopProof(*device->open().device.key, request);
        },
        [reply = std::move(reply)](JobResult<std::string> result) {
            if (!result.error) {
                reply(ipc::DpopResult{std::move(*result.value)}.toJson());
                return;
            }
            try {
                std::rethrow_exception(result.error);
            } catch (const protocol::JoseError &e) {
                reply(ipc::Error{ipc::ErrorCode::InvalidParams, oneLine(e.what()), "/params/url"});
            } catch (...) {
                reply(error(ipc::ErrorCode::Internal,
                            "cannot sign the proof: " + classify(result.error).message));
            }
        });
}

void Agent::enroll(std::string token, Reply reply)
{
    if (m_enrolling) {
        reply(error(ipc::ErrorCode::Busy, "an enrollment is under way"));
        return;
    }
    if (enrolled() && m_status.state != ipc::AgentState::Revoked) {
        reply(error(ipc::ErrorCode::Busy,
                    "this device is enrolled already, as device " + m_status.enrollment->deviceId));
        return;
    }
    tryEnrollment(std::move(token), std::move(reply));
}

} // namespace vigil::agent
