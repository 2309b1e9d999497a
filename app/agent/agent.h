#pragma once

// vigild's core: the device's side of the protocol, run on its own. It enrolls from the token
// file an installer left, reports on the verifier's schedule and at once when something that
// matters changes, holds an access token only while the verifier agrees, and answers the local
// socket (AgentRequests) from what it holds.
//
// Threads: this object and its timers live on the event-loop thread. Everything that touches
// the TPM, the device key or the verifier runs on the device thread, posture collection on the
// posture thread (WorkerThread); their results come back here, so the state below is touched
// by this thread alone and the socket is answered while a report is under way.

#include "app/agent/agentrequests.h"
#include "app/agent/mfa/usersessions.h"
#include "app/agent/reportschedule.h"
#include "app/agent/sessionposture.h"
#include "app/agent/tokenbroker.h"
#include "app/agent/vigildconfig.h"
#include "app/client/enrollmentstate.h"
#include "app/client/httpstransport.h"
#include "core/clock.h"
#include "protocol/ipc/status.h"

#include <QTimer>
#include <exception>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace vigil::agent {

class DeviceWork;
struct Failure;
class PostureCollection;
class WorkerThread;

struct AgentOptions
{
    static constexpr std::string_view defaultEnrollmentTokenFile = "/etc/vigil/enroll.token";

    VigildConfig config;
    std::filesystem::path enrollmentTokenFile{defaultEnrollmentTokenFile};
    ReportScheduleOptions schedule;
    app::HttpsTransportOptions transport; // its proxy is set from the configuration
};

class Agent final : public AgentRequests
{
    Q_OBJECT

public:
    Agent(AgentOptions options, const Clock &clock, QObject *parent = nullptr);
    // Lets the job under way on each thread finish, then joins them.
    ~Agent() override;

    // Reads the enrollment and starts: a report when enrolled, an enrollment when a token file
    // waits, otherwise not_enrolled with what to do.
    void start();

    // Something that may change the verdict happened (resume, unlock, a network or package
    // change): report soon, debounced, and at once when backing off from an unreachable
    // verifier. why is for the log.
    void trigger(const char *why);
    // Something changed beside the enrollment token file: when the file itself is new or
    // different, try it now.
    void enrollmentTokenMayHaveChanged();
    // The configuration file changed and holds config (ConfigReloader). Taken while the device
    // is not enrolled (or revoked): the verifier, CA, proxy, TPM and log level for the next
    // enrollment, which starts at once when a token file waits. An enrolled device keeps its
    // enrollment's verifier and CA and reads the file at its next start. The state directory,
    // socket and group are vigild's own resources and change at the next start only. Whether
    // config was taken (its log level is then the caller's to apply).
    bool reconfigure(const VigildConfig &config);
    // The configuration file changed but is refused (reason): the one in use stays, and while
    // not enrolled the status says why the new one was not taken.
    void configurationRefused(const std::string &reason);

    protocol::ipc::Status status() const override;
    void posture(Reply reply) override;
    void report(Caller caller, Reply reply) override;
    void token(Reply reply) override;
    void dpop(protocol::ipc::DpopParams params, Reply reply) override;
    void enroll(std::string token, Reply reply) override;
    void submitSessionPosture(uid_t uid, protocol::ipc::SessionPostureParams params,
                              Reply reply) override;

    // The caller's own Vigil user: UserSessions does the work.
    void mfaStatus(uid_t uid, Reply reply) override;
    void mfaEnroll(uid_t uid, protocol::ipc::MfaEnrollParams params, Reply reply) override;
    void mfaPinChange(uid_t uid, protocol::ipc::PinChangeParams params, Reply reply) override;
    void mfaPinReset(uid_t uid, protocol::ipc::PinResetParams params, Reply reply) override;
    void mfaTotpBegin(uid_t uid, protocol::ipc::PinParams params, Reply reply) override;
    void mfaTotpActivate(uid_t uid, protocol::ipc::TotpActivateParams params, Reply reply) override;
    void mfaRecoveryCodes(uid_t uid, protocol::ipc::PinParams params, Reply reply) override;
    void signIn(uid_t uid, protocol::ipc::SignInParams params, Reply reply) override;
    void signOut(uid_t uid, Reply reply) override;
    void userToken(uid_t uid, Reply reply) override;

    // The desktop sessions' screen locks; vigild tells it who is active (logind).
    SessionPosture &sessions() { return m_sessions; }
    // The users' sessions; vigild tells them of unlocks and resumes (logind).
    UserSessions &users() { return *m_users; }

private:
    bool enrolled() const { return m_status.enrollment.has_value(); }
    // Not enrolled, or revoked: the next enrollment will use the configuration file's verifier.
    bool awaitsEnrollment() const
    {
        return !enrolled() || m_status.state == protocol::ipc::AgentState::Revoked;
    }
    // reason, and why the configuration file's latest version was refused when it was.
    std::string withConfigProblem(std::string reason) const;
    // The enrollment read at start, found to be this machine's: report.
    void startEnrolled(const app::EnrollmentState &state);
    // The enrollment read at start belongs to another machine (reason): not enrolled, until a
    // token enrolls this machine as a new device.
    void identityIsForeign(const std::string &reason);
    // Enrolls from the token file when there is one, or says what to do when there is not.
    void considerEnrollment();
    void tryEnrollment(std::optional<std::string> token, std::optional<Reply> reply);
    void enrollmentFailed(const Failure &failure);
    void startReport();
    void reportDone(std::optional<protocol::Appraisal> appraisal, const std::exception_ptr &error);
    void fetchToken();
    void tokenFetched(std::optional<protocol::TokenResponse> token,
                      const std::exception_ptr &error);
    void dropToken(std::string reason);
    void revoked(const std::string &message);
    void onTimer();
    void armTimers();
    template <typename Change> void update(Change &&change);
    void answerReportWaiters();
    void failReportWaiters(const protocol::ipc::Error &error);

    AgentOptions m_options;
    const Clock &m_clock;
    ReportSchedule m_schedule;
    TokenBroker m_tokens;
    protocol::ipc::Status m_status;
    SessionPosture m_sessions;
    UserSessions *m_users; // a child

    std::unique_ptr<DeviceWork> m_device;         // used on the device thread only
    std::unique_ptr<PostureCollection> m_posture; // used on the posture thread only
    std::unique_ptr<WorkerThread> m_deviceThread;
    std::unique_ptr<WorkerThread> m_postureThread;

    QTimer m_reportTimer;  // at m_schedule.due(): a report, or an enrollment try
    QTimer m_refreshTimer; // at m_tokens.refreshDue()
    QTimer m_missedTimer;  // at the verifier's next_report_at: past it, the token goes
    QTimer m_sessionTimer; // a screen lock that changed soon after a report: its report

    bool m_sessionOpen = false;
    bool m_enrolling = false;
    bool m_checkingIdentity = false; // at start, until the identity is known to be this machine's
    // Why the identity in the state directory is not used, with the fix; "" when there is none
    // or it is this machine's.
    std::string m_foreignIdentity;
    bool m_reportInFlight = false;
    std::optional<std::chrono::system_clock::time_point> m_lastReportStartedAt;
    // Time left until a local user may cause another report (userReportInterval), 0 when now.
    std::chrono::seconds userReportWait() const;
    bool m_reportAgain = false; // a trigger came while a report was in flight
    bool m_fetchingToken = false;
    std::vector<Reply> m_reportWaiters;
    std::vector<Reply> m_tokenWaiters;
    std::vector<Reply> m_postureWaiters; // share the one collection under way
    // Answered with the status once the token being fetched is in: a compliant report's answer
    // then shows the token it earned.
    std::vector<Reply> m_statusWaiters;
    std::optional<Reply> m_enrollWaiter;
    // The token file as last tried (device, inode, size, change time): a change beside it in
    // its directory is no reason to try the same file again before the backoff says so.
    std::optional<std::string> m_triedTokenFile;
    // Why the configuration file's latest version was refused; "" when it was taken.
    std::string m_configProblem;
    // The configuration changed while an enrollment with the previous one was under way: should
    // that one fail, the next starts at once rather than after the backoff.
    bool m_retryEnrollmentNow = false;
};

} // namespace vigil::agent
