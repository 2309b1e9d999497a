#pragma once

// A thread that runs jobs one at a time, in the order given, and hands each result back to the
// event-loop thread. vigild keeps the TPM, the device key and the verifier's connection on one
// (they are not thread-safe, and the TPM takes one command at a time) and posture collection on
// another, so that its socket answers at once while a quote or a report is under way. Between
// jobs the thread sleeps in its event loop: no timer, no polling.

#include <QObject>
#include <QPointer>
#include <QString>
#include <QThread>
#include <atomic>
#include <exception>
#include <functional>
#include <memory>
#include <optional>

namespace vigil::agent {

// A job's value, or what it threw.
template <typename T> struct JobResult
{
    std::optional<T> value;
    std::exception_ptr error;
};

class WorkerThread
{
public:
    explicit WorkerThread(const QString &name);
    // Finishes the job running (jobs not started are dropped) and joins the thread.
    ~WorkerThread();
    WorkerThread(const WorkerThread &) = delete;
    WorkerThread &operator=(const WorkerThread &) = delete;

    // Runs job on this thread, then done(result) on receiver's thread, unless receiver is gone
    // by then.
    template <typename T>
    void run(QObject *receiver, std::function<T()> job, std::function<void(JobResult<T>)> done)
    {
        // Shared, because Qt copies the functors it queues.
        auto state = std::make_shared<Pending<T>>(
            Pending<T>{std::move(job), std::move(done), {}, QPointer<QObject>(receiver)});
        // The result goes to a courier on the receiver's thread, not to the receiver: the
        // receiver may be deleted while the job runs, and only its own thread can tell safely
        // whether it still exists. The courier deletes itself once it has delivered (never from
        // an event's destructor, which may run with Qt's event queue locked).
        QObject *courier = courierFor(receiver);
        post([this, state, courier] {
            if (m_stopping.load()) {
                courier->deleteLater();
                return;
            }
            try {
                state->result.value.emplace(state->job());
            } catch (...) {
                state->result.error = std::current_exception();
            }
            QMetaObject::invokeMethod(
                courier,
                [state, courier] {
                    courier->deleteLater();
                    if (state->receiver)
                        state->done(std::move(state->result));
                },
                Qt::QueuedConnection);
        });
    }

private:
    template <typename T> struct Pending
    {
        std::function<T()> job;
        std::function<void(JobResult<T>)> done;
        JobResult<T> result;
        QPointer<QObject> receiver;
    };

    // A new QObject on receiver's thread.
    static QObject *courierFor(QObject *receiver);

    void post(std::function<void()> job);

    std::atomic<bool> m_stopping{false}; // set by the destructor: jobs not started are dropped
    QThread m_thread;
    std::unique_ptr<QObject> m_context; // lives on m_thread: the jobs' receiver
};

} // namespace vigil::agent
