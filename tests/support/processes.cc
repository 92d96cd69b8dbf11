#include "tests/support/processes.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace hotline::testing {

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    throw std::runtime_error("FreePort: bind failed");
  }
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "hotline-test.XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

bool WaitFor(const std::function<bool()>& cond, std::chrono::milliseconds timeout,
             std::chrono::milliseconds step) {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (cond()) return true;
    std::this_thread::sleep_for(step);
  }
  return cond();
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const std::string& log,
                           const std::vector<std::string>& env) {
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    // Unblock everything the test runner may have blocked; the child handles its own signals.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    // If the test process dies without running destructors (abort, a fatal signal), take its
    // servers with it rather than leave them running.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    for (const auto& kv : env) putenv(strdup(kv.c_str()));
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
}

ChildProcess::~ChildProcess() { Stop(SIGTERM); }

void ChildProcess::Signal(int sig) const {
  if (pid_ > 0) kill(pid_, sig);
}

bool ChildProcess::Running() {
  if (pid_ <= 0) return false;
  int st = 0;
  pid_t r = waitpid(pid_, &st, WNOHANG);
  if (r == pid_) {
    status_ = st;
    pid_ = -1;
    return false;
  }
  return true;
}

int ChildProcess::Stop(int sig, std::chrono::milliseconds grace) {
  if (pid_ <= 0) return status_;
  kill(pid_, sig);
  auto until = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < until) {
    if (!Running()) return status_;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, &status_, 0);
  pid_ = -1;
  return status_;
}

RedisServer::RedisServer() : port_(FreePort()) { Start(); }

void RedisServer::Start() {
  proc_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{"redis-server", "--port", std::to_string(port_), "--bind",
                               "127.0.0.1", "--save", "", "--appendonly", "no", "--dir",
                               dir_.path()},
      dir_.path() + "/redis.log");
  bool up = WaitFor(
      [&] {
        redisContext* c = redisConnect("127.0.0.1", port_);
        bool ok = c != nullptr && c->err == 0;
        if (ok) {
          auto* r = static_cast<redisReply*>(redisCommand(c, "PING"));
          ok = r != nullptr && r->type == REDIS_REPLY_STATUS;
          if (r) freeReplyObject(r);
        }
        if (c) redisFree(c);
        return ok;
      },
      std::chrono::seconds(10));
  if (!up)
    throw std::runtime_error("redis-server did not start: " + ReadFile(dir_.path() + "/redis.log"));
}

void RedisServer::Stop() {
  if (proc_) proc_->Stop(SIGKILL);
  proc_.reset();
}

DevBroker::DevBroker(int partitions, int brokers) {
  const std::string file = dir_.path() + "/bootstrap";
  proc_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{HOTLINE_DEV_BROKER_BIN, "--partitions", std::to_string(partitions),
                               "--brokers", std::to_string(brokers), "--bootstrap-file", file},
      dir_.path() + "/broker.log");
  if (!WaitFor([&] { return std::filesystem::exists(file); }, std::chrono::seconds(10))) {
    throw std::runtime_error("dev broker did not start: " + ReadFile(dir_.path() + "/broker.log"));
  }
  bootstrap_ = ReadFile(file);
  while (!bootstrap_.empty() && (bootstrap_.back() == '\n' || bootstrap_.back() == ' ')) {
    bootstrap_.pop_back();
  }
}

void DevBroker::Down() const { proc_->Signal(SIGUSR1); }
void DevBroker::Up() const { proc_->Signal(SIGUSR2); }

}  // namespace hotline::testing
