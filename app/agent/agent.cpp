#include "app/agent/agent.h"

#include "app/agent/agentlogging.h"
#include "app/agent/configreloader.h"
#include "app/agent/devicework.h"
#include "app/agent/failure.h"
#include "app/agent/foreignidentity.h"
#include "app/agent/triggers/pathmonitor.h"
#include "app/agent/workerthread.h"
#include "app/client/enrollmenttoken.h"
#include "protocol/ipc/response.h"
#include "protocol/jose/jose.h"

#include <QUrl>
#include <algorithm>
#include <climits>
#include <sstream>
#include <system_error>
#include <utility>

namespace vigil::agent {

namespace ipc = protocol::ipc;
using namespace std::chrono_literals;

namespace {

// Whether a caller's proof would be for the verifier's own API: its origin (scheme, host in any
// case, port with 443 by default), any path but /v1/whoami, the one resource it serves to
// bearers of access tokens.
bool isVerifierApi(const std::string &url, const std::string &serverUrl)
{
    const QUrl target(QString::fromStdString(url));
    const QUrl server(QString::fromStdString(serverUrl));
    if (!target.isValid() || !server.isValid() ||
        target.scheme().compare(server.scheme(), Qt::CaseInsensitive) != 0 ||
        target.host().compare(server.host(), Qt::CaseInsensitive) != 0 ||
        target.port(443) != server.port(443))
        return false;
    QString base = server.path();
    while (base.endsWith(QLatin1Char('/')))
        base.chop(1);
    return target.path(QUrl::FullyDecoded) != base + QStringLiteral("/v1/whoami");
}

// The shortest wait between scheduled reports, whatever next_report_at says.
constexpr std::chrono::seconds minimumReportInterval{30};
// A user outside the group may ask for a report (to see a fix take effect) but not make vigild
// talk to the verifier back to back.
constexpr std::chrono::seconds userReportInterval{30};

app::HttpsTransportOptions transportOf(const AgentOptions &options)
{
    app::HttpsTransportOptions transport = options.transport;
    transport.proxy = options.config.proxy;
    return transport;
}

// Starts timer to fire at `at` (at once when that has passed), or stops it for no time.
void startAt(QTimer &timer, std::optional<std::chrono::system_clock::time_point> at,
             std::chrono::system_clock::time_point now)
{
    if (!at) {
        timer.stop();
        return;
    }
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(*at - now);
    timer.start(static_cast<int>(std::clamp<long long>(wait.count(), 0, INT_MAX)));
}

ipc::Error error(ipc::ErrorCode code, std::string message)
{
    return ipc::Error{code, oneLine(std::move(message)), {}};
}

} // namespace

Agent::Agent(AgentOptions options, const Clock &clock, QObject *parent)
    : AgentRequests(parent), m_options(std::move(options)), m_clock(clock),
      m_schedule(clock, m_options.schedule), m_tokens(clock), m_sessions(clock),
      // No user store yet: every uid is without a Vigil user until the user keys are wired in.
      m_users(new UserSessions(
          clock, [](uid_t) { return std::optional<ipc::MfaUserInfo>(); },
          [this] { return enrolled(); }, this)),
      m_device(std::make_unique<DeviceWork>(m_options.config.stateDirectory, m_options.config.tcti,
                                            transportOf(m_options))),
      m_posture(std::make_unique<PostureCollection>()),
      m_deviceThread(std::make_unique<WorkerThread>(QStringLiteral("vigild-device"))),
      m_postureThread(std::make_unique<WorkerThread>(QStringLiteral("vigild-posture")))
{
    for (QTimer *timer : {&m_reportTimer, &m_refreshTimer, &m_missedTimer, &m_sessionTimer})
        timer->setSingleShot(true);
    // The users' key and verifier work runs on the device thread, like the device's own.
    m_users->setDevice([this](UserSessions::DeviceJob job, Reply done) {
        if (!enrolled()) {
            done(error(ipc::ErrorCode::NotEnrolled,
                       "the device is not enrolled: `vigilctl enroll` first (root or the group)"));
            return;
        }
        m_deviceThread->run<Outcome>(
            this, [this, job = std::move(job)] { return job(m_device->users(m_clock)); },
            [done = std::move(done)](JobResult<Outcome> result) {
                if (!result.error) {
                    done(std::move(*result.value));
                    return;
                }
                try {
                    std::rethrow_exception(result.error);
                } catch (const std::exception &e) {
                    // The device could not be opened (TPM, state): no secret is in such text.
                    done(ipc::Error{ipc::ErrorCode::Unavailable, oneLine(e.what()), {}});
                }
            });
    });
    connect(m_users, &UserSessions::promptRaised, this, &AgentRequests::promptRaised);
    connect(m_users, &UserSessions::promptClosed, this, &AgentRequests::promptClosed);
    // A user's session decides what it reports: like a user's "Check now", its changes make
    // vigild report at most every userReportInterval, however often they come.
    connect(&m_sessions, &SessionPosture::changed, this, [this] {
        if (const auto wait = userReportWait(); wait.count() > 0) {
            if (!m_sessionTimer.isActive())
                m_sessionTimer.start(wait);
            return;
        }
        trigger("the active session's screen lock changed");
    });
    connect(&m_sessionTimer, &QTimer::timeout, this,
            [this] { trigger("the active session's screen lock changed"); });
    connect(&m_reportTimer, &QTimer::timeout, this, &Agent::onTimer);
    connect(&m_refreshTimer, &QTimer::timeout, this, [this] {
        if (m_status.state == ipc::AgentState::Compliant && m_missedTimer.isActive())
            fetchToken();
    });
    connect(&m_missedTimer, &QTimer::timeout, this, [this] {
        const std::string why = "the report the verifier asked for by now has not reached it";
        dropToken(why);
        update([&](ipc::Status &status) { status.reason = why + "; no token until one does"; });
    });
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
    // Nothing talks to the verifier with an identity before it is known to be this machine's
    // (foreignidentity.h): the check reads the TPM, so it runs on the device thread.
    m_checkingIdentity = true;
    DeviceWork *device = m_device.get();
    m_deviceThread->run<std::optional<std::string>>(
        this, [device] { return device->foreignIdentity(); },
        [this, state = *state](JobResult<std::optional<std::string>> result) {
            m_checkingIdentity = false;
            if (result.error) {
                // Nothing about the machine: the first report names what is wrong.
                qCWarning(lcAgent, "cannot compare the identity with this machine: %s",
                          classifyFailure(result.error).message.c_str());
            } else if (*result.value) {
                identityIsForeign(**result.value);
                return;
            }
            startEnrolled(state);
        });
}

void Agent::identityIsForeign(const std::string &reason)
{
    qCWarning(lcAgent, "%s; vigild does not use it", reason.c_str());
    m_foreignIdentity =
        withCloneFix(reason, m_options.enrollmentTokenFile, m_options.config.stateDirectory);
    considerEnrollment();
}

void Agent::startEnrolled(const app::EnrollmentState &state)
{
    qCInfo(lcAgent, "enrolled as device %s with %s (assurance %s)", state.deviceId.c_str(),
           state.serverUrl.c_str(), std::string(protocol::assuranceName(state.assurance)).c_str());
    update([&](ipc::Status &status) {
        status.enrollment = ipc::EnrollmentInfo{state.deviceId, state.assurance, state.serverUrl};
    });
    m_schedule.reportSoon();
    armTimers();
}

void Agent::trigger(const char *why)
{
    // Waiting to try the token file again: a network that came up may be what it lacked.
    if (!enrolled() && m_status.state == ipc::AgentState::Enrolling && !m_enrolling) {
        qCInfo(lcAgent, "%s: trying the enrollment again soon", why);
        m_schedule.triggered();
        armTimers();
        return;
    }
    if (!enrolled() || m_status.state == ipc::AgentState::Revoked)
        return;
    qCInfo(lcAgent, "%s: reporting soon", why);
    if (m_reportInFlight)
        m_reportAgain = true;
    else
        m_schedule.triggered();
    armTimers();
}

void Agent::enrollmentTokenMayHaveChanged()
{
    if (m_triedTokenFile && fileIdentity(m_options.enrollmentTokenFile) == m_triedTokenFile)
        return;
    considerEnrollment();
}

bool Agent::reconfigure(const VigildConfig &config)
{
    if (!awaitsEnrollment()) {
        qCInfo(lcAgent, "the device is enrolled: the changed configuration takes effect when "
                        "vigild starts again (the enrollment keeps its own verifier and CA)");
        return false;
    }
    m_configProblem.clear();
    VigildConfig next = liveChanges(m_options.config, config);
    const bool changed = next != m_options.config;
    m_options.config = std::move(next);
    if (changed)
        qCInfo(lcAgent, "using the changed configuration for the enrollment (verifier %s)",
               m_options.config.serverUrl.value_or("not set yet").c_str());
    if (m_enrolling) {
        // That enrollment took the previous values; should it fail, the new ones get their
        // turn at once.
        m_retryEnrollmentNow = m_retryEnrollmentNow || changed;
        return true;
    }
    if (changed || m_status.state == ipc::AgentState::NotEnrolled)
        considerEnrollment(); // with a token file waiting, an enrollment starts now
    return true;
}

void Agent::configurationRefused(const std::string &reason)
{
    if (!awaitsEnrollment())
        return; // logged by the reloader; the enrollment does not use the file
    m_configProblem = "the changed configuration file is refused (" + reason +
                      "), so vigild keeps the one it has";
    // An enrollment under way or backing off goes on with the configuration it has; a device
    // waiting for one shows why the new file did not help.
    if (m_status.state == ipc::AgentState::NotEnrolled && !m_enrolling)
        considerEnrollment();
}

std::string Agent::withConfigProblem(std::string reason) const
{
    if (!m_configProblem.empty())
        reason += "; " + m_configProblem;
    return oneLine(std::move(reason));
}

void Agent::considerEnrollment()
{
    if (m_enrolling || m_checkingIdentity ||
        (enrolled() && m_status.state != ipc::AgentState::Revoked))
        return;
    // An enrollment that could not be read is never overwritten by a new one.
    if (!enrolled() && m_status.state == ipc::AgentState::Error)
        return;
    std::error_code ignored;
    if (std::filesystem::exists(m_options.enrollmentTokenFile, ignored)) {
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
        status.reason = withConfigProblem((m_foreignIdentity.empty()
                                               ? "not enrolled: put the enrollment token in " +
                                                     m_options.enrollmentTokenFile.string() +
                                                     " or run vigilctl enroll --token-file FILE"
                                               : m_foreignIdentity) +
                                          (blocker.empty() ? "" : "; first " + blocker));
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
            status.reason = withConfigProblem(message);
        });
        return;
    }
    if (fromFile) {
        m_triedTokenFile = fileIdentity(m_options.enrollmentTokenFile);
        std::ostringstream warnings;
        std::istringstream noInput;
        try {
            token = app::readEnrollmentToken(m_options.enrollmentTokenFile, noInput, warnings, "");
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
    DeviceWork *device = m_device.get();
    m_deviceThread->run<app::EnrollmentState>(
        this,
        [device, serverUrl, caFile = *m_options.config.caFile,
         fingerprint = m_options.config.caFingerprint, tcti = m_options.config.tcti,
         transport = transportOf(m_options), token = std::move(*token)] {
            // The configuration may have changed since vigild started (reconfigure).
            device->configure(tcti, transport);
            return device->enroll(serverUrl, caFile, fingerprint, token);
        },
        [this, fromFile](JobResult<app::EnrollmentState> result) {
            m_enrolling = false;
            if (result.error) {
                const Failure failure = classifyFailure(result.error);
                if (fromFile) {
                    const auto wait = m_schedule.failed(failure.retryAfter);
                    qCWarning(lcAgent, "enrollment failed: %s; trying again in %lld s",
                              failure.message.c_str(), static_cast<long long>(wait.count()));
                    update([&](ipc::Status &status) {
                        if (failure.kind != Failure::Kind::Local) {
                            status.verifierReachable = failure.kind != Failure::Kind::Unreachable;
                            status.verifierLastError = oneLine(failure.message);
                        }
                        status.state = ipc::AgentState::Enrolling;
                        status.reason =
                            oneLine("enrollment failed: " + failure.message + "; trying again at " +
                                    timeOfDay(m_clock.now() + wait));
                    });
                }
                // Answered before anything else starts: considerEnrollment may begin another.
                if (auto waiter = std::exchange(m_enrollWaiter, std::nullopt))
                    (*waiter)(error(failure.kind == Failure::Kind::Local
                                        ? ipc::ErrorCode::Internal
                                        : ipc::ErrorCode::Unavailable,
                                    "enrollment failed: " + failure.message));
                if (!fromFile) {
                    qCWarning(lcAgent, "enrollment failed: %s", failure.message.c_str());
                    considerEnrollment();
                } else if (std::exchange(m_retryEnrollmentNow, false)) {
                    considerEnrollment();
                }
                armTimers();
                return;
            }
            m_retryEnrollmentNow = false;
            m_foreignIdentity.clear(); // moved aside by the enrollment
            const app::EnrollmentState &state = *result.value;
            qCInfo(lcAgent, "enrolled as device %s (assurance %s)", state.deviceId.c_str(),
                   std::string(protocol::assuranceName(state.assurance)).c_str());
            // The spent token goes; a file put there since holds another and stays.
            if (fromFile && fileIdentity(m_options.enrollmentTokenFile) == m_triedTokenFile) {
                std::error_code removeError;
                std::filesystem::remove(m_options.enrollmentTokenFile, removeError);
                if (removeError)
                    qCWarning(lcAgent, "cannot remove %s, which is no longer needed: %s",
                              m_options.enrollmentTokenFile.c_str(), removeError.message().c_str());
            }
            update([&](ipc::Status &status) {
                status.enrollment =
                    ipc::EnrollmentInfo{state.deviceId, state.assurance, state.serverUrl};
                status.state = ipc::AgentState::Starting;
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
    m_lastReportStartedAt = startedAt;
    PostureCollection *posture = m_posture.get();
    m_postureThread->run<nlohmann::json>(
        this, [posture] { return posture->collect(); },
        [this, startedAt](JobResult<nlohmann::json> collected) {
            if (collected.error) {
                reportDone(std::nullopt, collected.error);
                return;
            }
            // Root cannot read the screen lock; the active session told us.
            m_sessions.applyTo(*collected.value);
            DeviceWork *device = m_device.get();
            m_deviceThread->run<protocol::Appraisal>(
                this,
                [device, snapshot = std::move(*collected.value)] {
                    return device->report(snapshot);
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
        std::vector<protocol::AppraisalCheck> passing;
        for (const auto &check : appraisal->checks)
            (check.status == protocol::CheckOutcome::Fail ? failing : passing).push_back(check);
        const bool compliant = appraisal->verdict == protocol::Verdict::Compliant;
        qCInfo(lcAgent, "verdict %s%s",
               std::string(protocol::verdictName(appraisal->verdict)).c_str(),
               failing.empty() ? "" : (" (" + failingChecksReason(failing) + ")").c_str());
        // The verifier's times are on its clock: the interval it asks for, counted from now on
        // this one, and never so short that a skewed clock makes reports run back to back.
        const auto interval = std::max<std::chrono::system_clock::duration>(
            appraisal->nextReportAt - appraisal->appraisedAt, minimumReportInterval);
        const auto now = m_clock.now();
        m_schedule.succeeded(now + interval);
        startAt(m_missedTimer, now + interval, now);
        update([&](ipc::Status &status) {
            status.state = compliant ? ipc::AgentState::Compliant : ipc::AgentState::NonCompliant;
            status.reason = compliant ? "" : oneLine(failingChecksReason(failing));
            status.lastVerdict =
                ipc::LastVerdict{appraisal->verdict, appraisal->appraisedAt, failing, passing};
            status.verifierReachable = true;
            status.verifierLastError.clear();
        });
        if (!compliant)
            dropToken("the device is not compliant: " + failingChecksReason(failing));
        else if (!m_tokens.current() || m_tokens.refreshDue() <= m_clock.now())
            fetchToken();
    } else {
        const Failure failure = classifyFailure(failed);
        if (failure.kind == Failure::Kind::Revoked) {
            revoked(failure.message);
            waiterError = error(ipc::ErrorCode::Unavailable, m_status.reason);
        } else {
            const auto wait = m_schedule.failed(failure.retryAfter);
            const std::string retry = "; trying again at " + timeOfDay(m_clock.now() + wait);
            qCWarning(lcAgent, "report failed: %s; trying again in %lld s", failure.message.c_str(),
                      static_cast<long long>(wait.count()));
            update([&](ipc::Status &status) {
                switch (failure.kind) {
                case Failure::Kind::Unreachable:
                    status.state = ipc::AgentState::Offline;
                    status.reason = oneLine("the verifier cannot be reached" + retry);
                    status.verifierReachable = false;
                    status.verifierLastError = oneLine(failure.message);
                    break;
                case Failure::Kind::Refused:
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
            waiterError = error(failure.kind == Failure::Kind::Local ? ipc::ErrorCode::Internal
                                                                     : ipc::ErrorCode::Unavailable,
                                failure.kind == Failure::Kind::Unreachable
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
    if (m_enrollWaiter && !m_enrolling) {
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
    DeviceWork *device = m_device.get();
    m_deviceThread->run<protocol::TokenResponse>(
        this, [device] { return device->token(); },
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
        const Failure failure = classifyFailure(failed);
        refusal = error(ipc::ErrorCode::Unavailable, "no access token: " + failure.message);
        qCWarning(lcAgent, "no access token: %s", failure.message.c_str());
        if (failure.kind == Failure::Kind::Revoked) {
            revoked(failure.message);
        } else if (failure.code == "not_compliant" || failure.code == "report_stale") {
            // The verifier's view is not the one held here: report again and take its verdict.
            dropToken("no access token: " + failure.message);
            m_schedule.triggered();
        } else {
            // Unreachable, rate-limited, overloaded: keep a token still held while it lasts and
            // try again in a while, no sooner than the verifier asked.
            const auto wait = std::max<std::chrono::seconds>(failure.retryAfter.value_or(30s), 30s);
            auto retry = m_clock.now() + wait;
            if (const auto held = m_tokens.current())
                retry = std::min(held->expiresAt, retry);
            startAt(m_refreshTimer, retry, m_clock.now());
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
    const bool busy = m_reportInFlight || m_enrolling;
    startAt(m_reportTimer, busy ? std::nullopt : m_schedule.due(), now);
    if (!m_fetchingToken && !m_refreshTimer.isActive())
        startAt(m_refreshTimer, m_tokens.refreshDue(), now);
    // The next report, or the next try of the token file while an enrollment backs off.
    const bool reporting = (enrolled() && m_status.state != ipc::AgentState::Revoked) ||
                           (!enrolled() && m_status.state == ipc::AgentState::Enrolling);
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

ipc::Status Agent::status() const
{
    ipc::Status status = m_status;
    const auto held = m_tokens.current();
    status.tokenExpiresAt = held ? std::optional(held->expiresAt) : std::nullopt;
    return status;
}

void Agent::posture(Reply reply)
{
    // Every caller waiting meanwhile shares one collection: any local user may ask, and must
    // not be able to queue work in front of the reports.
    m_postureWaiters.push_back(std::move(reply));
    if (m_postureWaiters.size() > 1)
        return;
    PostureCollection *posture = m_posture.get();
    m_postureThread->run<nlohmann::json>(
        this, [posture] { return posture->collect(); },
        [this](JobResult<nlohmann::json> result) {
            std::vector<Reply> waiters = std::exchange(m_postureWaiters, {});
            for (auto &waiter : waiters) {
                if (result.error) {
                    waiter(
                        error(ipc::ErrorCode::Internal, "posture collection failed: " +
                                                            classifyFailure(result.error).message));
                } else {
                    // What the next report would carry.
                    m_sessions.applyTo(*result.value);
                    waiter(ipc::PostureResult{*result.value}.toJson());
                }
            }
        });
}

void Agent::report(Caller caller, Reply reply)
{
    if (!enrolled()) {
        reply(error(ipc::ErrorCode::NotEnrolled,
                    "this device is not enrolled: vigilctl enroll --token-file FILE"));
        return;
    }
    if (caller == Caller::User) {
        // A user joins the report in flight but never queues another after it.
        if (m_reportInFlight) {
            m_reportWaiters.push_back(std::move(reply));
            return;
        }
        if (const auto wait = userReportWait(); wait.count() > 0) {
            reply(error(ipc::ErrorCode::Busy,
                        "a report ran " + std::to_string((userReportInterval - wait).count()) +
                            " s ago: ask again in " + std::to_string(wait.count()) + " s"));
            return;
        }
    }
    m_reportWaiters.push_back(std::move(reply));
    startReport();
}

std::chrono::seconds Agent::userReportWait() const
{
    if (!m_lastReportStartedAt)
        return std::chrono::seconds(0);
    const auto since =
        std::chrono::duration_cast<std::chrono::seconds>(m_clock.now() - *m_lastReportStartedAt);
    // A clock set back makes since negative: that is no reason to make anyone wait.
    if (since.count() < 0 || since >= userReportInterval)
        return std::chrono::seconds(0);
    return std::max(std::chrono::seconds(1), userReportInterval - since);
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
    if (m_status.state == ipc::AgentState::Compliant && m_missedTimer.isActive()) {
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
    // Proofs are for the caller's own relying parties. One for the verifier's API would let a
    // member of the group act there as this device, on every user's endpoints (/v1/users/…) too.
    if (isVerifierApi(params.url, m_status.enrollment->serverUrl)) {
        reply(ipc::Error{ipc::ErrorCode::InvalidParams,
                         "vigild signs no proof for its verifier's API (" +
                             m_status.enrollment->serverUrl +
                             "), which it speaks to itself; only /v1/whoami there",
                         "/params/url"});
        return;
    }
    DeviceWork *device = m_device.get();
    const Clock &clock = m_clock;
    m_deviceThread->run<std::string>(
        this,
        [device, &clock, params = std::move(params)] {
            return device->dpopProof(params, clock.now());
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
                            "cannot sign the proof: " + classifyFailure(result.error).message));
            }
        });
}

void Agent::enroll(std::string token, Reply reply)
{
    if (m_enrolling) {
        reply(error(ipc::ErrorCode::Busy, "an enrollment is under way"));
        return;
    }
    if (m_checkingIdentity) {
        reply(error(ipc::ErrorCode::Busy, "vigild is starting (checking its identity against "
                                          "this machine); ask again in a moment"));
        return;
    }
    if (!enrolled() && m_status.state == ipc::AgentState::Error) {
        reply(error(ipc::ErrorCode::Unavailable, "the existing enrollment cannot be read (" +
                                                     m_status.reason +
                                                     "); fix or remove it first"));
        return;
    }
    if (enrolled() && m_status.state != ipc::AgentState::Revoked) {
        reply(error(ipc::ErrorCode::Busy,
                    "this device is enrolled already, as device " + m_status.enrollment->deviceId));
        return;
    }
    tryEnrollment(std::move(token), std::move(reply));
}

void Agent::submitSessionPosture(uid_t uid, ipc::SessionPostureParams params, Reply reply)
{
    posture::CheckResult screenLock;
    try {
        screenLock = posture::CheckResult::fromJson(params.screenLock);
    } catch (const std::invalid_argument &e) {
        // parseRequest checked the shape already; this is only posture's own word on it.
        reply(ipc::Error{ipc::ErrorCode::InvalidParams, oneLine(e.what()),
                         "/params/checks/screen_lock"});
        return;
    }
    m_sessions.submit(uid, std::move(screenLock));
    reply(ipc::SessionPostureResult{}.toJson());
}

void Agent::mfaStatus(uid_t uid, Reply reply)
{
    m_users->mfaStatus(uid, std::move(reply));
}

void Agent::mfaEnroll(uid_t uid, ipc::MfaEnrollParams params, Reply reply)
{
    m_users->mfaEnroll(uid, std::move(params), std::move(reply));
}

void Agent::mfaPinChange(uid_t uid, ipc::PinChangeParams params, Reply reply)
{
    m_users->mfaPinChange(uid, std::move(params), std::move(reply));
}

void Agent::mfaPinReset(uid_t uid, ipc::PinResetParams params, Reply reply)
{
    m_users->mfaPinReset(uid, std::move(params), std::move(reply));
}

void Agent::mfaTotpBegin(uid_t uid, ipc::PinParams params, Reply reply)
{
    m_users->mfaTotpBegin(uid, std::move(params), std::move(reply));
}

void Agent::mfaTotpActivate(uid_t uid, ipc::TotpActivateParams params, Reply reply)
{
    m_users->mfaTotpActivate(uid, std::move(params), std::move(reply));
}

void Agent::mfaRecoveryCodes(uid_t uid, ipc::PinParams params, Reply reply)
{
    m_users->mfaRecoveryCodes(uid, std::move(params), std::move(reply));
}

void Agent::signIn(uid_t uid, ipc::SignInParams params, Reply reply)
{
    m_users->signIn(uid, std::move(params), std::move(reply));
}

void Agent::signOut(uid_t uid, Reply reply)
{
    m_users->signOut(uid, std::move(reply));
}

void Agent::userToken(uid_t uid, Reply reply)
{
    m_users->userToken(uid, std::move(reply));
}

} // namespace vigil::agent
