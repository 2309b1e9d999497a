#include "app/agent/workerthread.h"

namespace vigil::agent {

WorkerThread::WorkerThread(const QString &name) : m_context(std::make_unique<QObject>())
{
    m_thread.setObjectName(name);
    m_context->moveToThread(&m_thread);
    m_thread.start();
}

WorkerThread::~WorkerThread()
{
    // quit() alone would not do: the thread's event loop still runs every job already queued
    // before it looks at the request to quit.
    m_stopping = true;
    m_thread.quit();
    m_thread.wait();
    // Its thread has ended, so the context can be deleted from here.
    m_context.reset();
}

QObject *WorkerThread::courierFor(QObject *receiver)
{
    auto *courier = new QObject;
    courier->moveToThread(receiver->thread());
    return courier;
}

void WorkerThread::post(std::function<void()> job)
{
    QMetaObject::invokeMethod(m_context.get(), std::move(job), Qt::QueuedConnection);
}

} // namespace vigil::agent
