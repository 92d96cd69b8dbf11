#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace hotline::testing {

// A port the kernel just handed out, so parallel test runs do not collide.
int FreePort();
// A fresh directory under $TMPDIR, removed with everything in it by ~TempDir.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

bool WaitFor(const std::function<bool()>& cond, std::chrono::milliseconds timeout,
             std::chrono::milliseconds step = std::chrono::milliseconds(50));

// A child process with stdout+stderr sent to `log`. Destruction sends SIGTERM, waits up to
// 5 s, then SIGKILL: a failing test never leaves a server behind.
class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& argv, const std::string& log,
               const std::vector<std::string>& env = {});
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  void Signal(int sig) const;
  // SIGTERM (or `sig`), then wait; returns the exit status as waitpid reports it, or -1.
  int Stop(int sig = 15, std::chrono::milliseconds grace = std::chrono::milliseconds(5000));
  bool Running();

 private:
  pid_t pid_ = -1;
  int status_ = -1;
};

// A real redis-server on a free loopback port, no persistence, its own temp dir.
class RedisServer {
 public:
  RedisServer();
  int port() const { return port_; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_) + "/0"; }
  // Kill and start again on the same port (for reconnect tests).
  void Stop();
  void Start();

 private:
  TempDir dir_;
  int port_;
  std::unique_ptr<ChildProcess> proc_;
};

// The project's dev broker (tools/dev_broker): librdkafka's mock cluster on loopback.
class DevBroker {
 public:
  explicit DevBroker(int partitions = 6, int brokers = 1);
  const std::string& bootstrap() const { return bootstrap_; }
  void Down() const;  // every broker refuses connections
  void Up() const;

 private:
  TempDir dir_;
  std::unique_ptr<ChildProcess> proc_;
  std::string bootstrap_;
};

std::string ReadFile(const std::string& path);

}  // namespace hotline::testing
