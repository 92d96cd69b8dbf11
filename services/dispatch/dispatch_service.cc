#include "services/dispatch/dispatch_service.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <regex>
#include <thread>

#include "services/common/grpc_status.h"
#include "services/common/log.h"

namespace hotline::dispatch {
namespace {

// Finishes a unary call: on success `fill` copies the ticket into the response.
template <typename Resp>
grpc::ServerUnaryReactor* Done(grpc::CallbackServerContext* ctx, const absl::StatusOr<v1::DispatchedTicket>& r,
                               Resp* resp) {
  if (r.ok()) *resp->mutable_ticket() = *r;
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(ToGrpcStatus(r.status()));
  return reactor;
}

// Streams a department's assignments: first everything after the client's cursor, then new ones
// as they arrive (polled from the department's Redis stream). Each message carries the ticket's
// current state and the cursor to resume from.
class AssignmentStream : public grpc::ServerWriteReactor<v1::StreamAssignedTicketsResponse> {
 public:
  AssignmentStream(Dispatcher* d, std::string dept, std::string cursor, std::chrono::milliseconds poll)
      : d_(d), dept_(std::move(dept)), cursor_(std::move(cursor)), poll_(poll) {
    thread_ = std::thread([this] { Run(); });
  }
  void OnWriteDone(bool ok) override {
    std::lock_guard<std::mutex> l(mu_);
    writing_ = false;
    if (!ok) stop_ = true;
    cv_.notify_all();
  }
  void OnCancel() override {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
    cv_.notify_all();
  }
  void OnDone() override {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.get_id() == std::this_thread::get_id()) {
      thread_.detach();  // gRPC ran OnDone inline from our own Finish
    } else {
      thread_.join();
    }
    delete this;
  }

 private:
  void Run() {
    absl::Status status;
    while (true) {
      {
        std::lock_guard<std::mutex> l(mu_);
        if (stop_) break;
      }
      auto batch = d_->repository()->Assignments(dept_, cursor_, 100);
      if (!batch.ok()) {
        status = batch.status();
        break;
      }
      for (const auto& [cursor, id] : *batch) {
        auto t = d_->repository()->Get(id);
        cursor_ = cursor;
        // Skip tickets that have since left this department (returned, re-dispatched).
        if (!t.ok() || !t->has_value() || (*t)->department_id() != dept_) continue;
        msg_.Clear();
        *msg_.mutable_ticket() = **t;
        msg_.set_cursor(cursor);
        std::unique_lock<std::mutex> l(mu_);
        if (stop_) break;
        writing_ = true;
        StartWrite(&msg_);
        cv_.wait(l, [this] { return !writing_ || stop_; });
        if (stop_) {
          cv_.wait(l, [this] { return !writing_; });
          break;
        }
      }
      std::unique_lock<std::mutex> l(mu_);
      if (stop_) break;
      if (batch->empty()) cv_.wait_for(l, poll_, [this] { return stop_; });
    }
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [this] { return !writing_; });
    l.unlock();
    Finish(status.ok() ? grpc::Status::OK : ToGrpcStatus(status));
  }

  Dispatcher* d_;
  std::string dept_;
  std::string cursor_;
  std::chrono::milliseconds poll_;
  v1::StreamAssignedTicketsResponse msg_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool writing_ = false;
  bool stop_ = false;
  std::thread thread_;
};

grpc::ServerUnaryReactor* Refuse(grpc::CallbackServerContext* ctx, const absl::Status& s) {
  auto* r = ctx->DefaultReactor();
  r->Finish(ToGrpcStatus(s));
  return r;
}

const std::set<Role> kDispatchers = {Role::kDispatcher, Role::kSupervisor, Role::kService};
const std::set<Role> kCentre = {Role::kSupervisor, Role::kService};

class ImmediateError : public grpc::ServerWriteReactor<v1::StreamAssignedTicketsResponse> {
 public:
  explicit ImmediateError(grpc::Status s) { Finish(s); }
  void OnDone() override { delete this; }
};

}  // namespace

absl::StatusOr<std::string> DepartmentServiceImpl::ActingDepartment(grpc::CallbackServerContext* ctx,
                                                                    const std::string& requested) const {
  auto p = auth_->Authenticate(ctx);
  if (!p.ok()) return p.status();
  std::string dept = requested.empty() && p->role == Role::kDepartment ? p->department : requested;
  if (auto s = Authenticator::RequireDepartment(*p, dept); !s.ok()) return s;
  return dept;
}

grpc::ServerUnaryReactor* TriageServiceImpl::ListTriage(grpc::CallbackServerContext* ctx,
                                                        const v1::ListTriageRequest* req,
                                                        v1::ListTriageResponse* resp) {
  if (auto a = auth_->Authorize(ctx, kDispatchers); !a.ok()) return Refuse(ctx, a.status());
  size_t size = req->page().page_size() <= 0 ? 50 : std::min(req->page().page_size(), 500);
  size_t offset = 0;
  if (!req->page().page_token().empty()) offset = std::strtoull(req->page().page_token().c_str(), nullptr, 10);
  auto r = d_->ListTriage(offset, size + 1);
  if (r.ok()) {
    for (size_t i = 0; i < r->size() && i < size; ++i) *resp->add_tickets() = (*r)[i];
    if (r->size() > size) resp->mutable_page()->set_next_page_token(std::to_string(offset + size));
  }
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(ToGrpcStatus(r.status()));
  return reactor;
}

grpc::ServerUnaryReactor* TriageServiceImpl::AssignTicket(grpc::CallbackServerContext* ctx,
                                                          const v1::AssignTicketRequest* req,
                                                          v1::AssignTicketResponse* resp) {
  if (auto a = auth_->Authorize(ctx, kDispatchers); !a.ok()) return Refuse(ctx, a.status());
  return Done(ctx, d_->Assign(*req), resp);
}

grpc::ServerWriteReactor<v1::StreamAssignedTicketsResponse>* DepartmentServiceImpl::StreamAssignedTickets(
    grpc::CallbackServerContext* ctx, const v1::StreamAssignedTicketsRequest* req) {
  static const std::regex kCursor("^[0-9]+-[0-9]+$");
  auto dept = ActingDepartment(ctx, req->department_id());
  if (!dept.ok()) return new ImmediateError(ToGrpcStatus(dept.status()));
  if (dept->empty()) {
    return new ImmediateError(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "department_id: is required"));
  }
  if (!d_->matrix().Find(*dept)) {
    return new ImmediateError(grpc::Status(grpc::StatusCode::NOT_FOUND,
                                           "department_id: unknown department '" + req->department_id() + "'"));
  }
  if (!req->after_cursor().empty() && !std::regex_match(req->after_cursor(), kCursor)) {
    return new ImmediateError(
        grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "after_cursor: not a cursor this stream sent"));
  }
  return new AssignmentStream(d_, *dept, req->after_cursor(), poll_);
}

grpc::ServerUnaryReactor* DepartmentServiceImpl::AcceptTicket(grpc::CallbackServerContext* ctx,
                                                              const v1::AcceptTicketRequest* req,
                                                              v1::AcceptTicketResponse* resp) {
  auto dept = ActingDepartment(ctx, req->department_id());
  if (!dept.ok()) return Refuse(ctx, dept.status());
  return Done(ctx, d_->Accept(req->ticket_id(), *dept), resp);
}

grpc::ServerUnaryReactor* DepartmentServiceImpl::ReturnTicket(grpc::CallbackServerContext* ctx,
                                                              const v1::ReturnTicketRequest* req,
                                                              v1::ReturnTicketResponse* resp) {
  auto dept = ActingDepartment(ctx, req->department_id());
  if (!dept.ok()) return Refuse(ctx, dept.status());
  return Done(ctx, d_->Return(req->ticket_id(), *dept, req->reason()), resp);
}

grpc::ServerUnaryReactor* DepartmentServiceImpl::RequestExtension(grpc::CallbackServerContext* ctx,
                                                                  const v1::RequestExtensionRequest* req,
                                                                  v1::RequestExtensionResponse* resp) {
  auto dept = ActingDepartment(ctx, req->department_id());
  if (!dept.ok()) return Refuse(ctx, dept.status());
  v1::RequestExtensionRequest r = *req;
  r.set_department_id(*dept);
  return Done(ctx, d_->RequestExtension(r), resp);
}

grpc::ServerUnaryReactor* DepartmentServiceImpl::ReplyTicket(grpc::CallbackServerContext* ctx,
                                                             const v1::ReplyTicketRequest* req,
                                                             v1::ReplyTicketResponse* resp) {
  auto dept = ActingDepartment(ctx, req->department_id());
  if (!dept.ok()) return Refuse(ctx, dept.status());
  return Done(ctx, d_->Reply(req->ticket_id(), *dept, req->resolution()), resp);
}

grpc::ServerUnaryReactor* DepartmentServiceImpl::GetDispatchedTicket(grpc::CallbackServerContext* ctx,
                                                                     const v1::GetDispatchedTicketRequest* req,
                                                                     v1::GetDispatchedTicketResponse* resp) {
  // Empty department_id: the hotline centre's view of any ticket (dispatchers and supervisors).
  auto p = auth_->Authenticate(ctx);
  if (!p.ok()) return Refuse(ctx, p.status());
  std::string dept = req->department_id();
  if (p->role == Role::kDepartment) {
    if (!dept.empty() && dept != p->department) {
      return Refuse(ctx, Authenticator::RequireDepartment(*p, dept));
    }
    dept = p->department;
  } else if (auto a = Authenticator::Require(*p, {Role::kDispatcher, Role::kSupervisor, Role::kService, Role::kAnalyst,
                                                  Role::kCallTaker});
             !a.ok()) {
    return Refuse(ctx, a);
  }
  return Done(ctx, d_->Get(req->ticket_id(), dept), resp);
}

grpc::ServerUnaryReactor* SupervisionServiceImpl::DecideExtension(grpc::CallbackServerContext* ctx,
                                                                  const v1::DecideExtensionRequest* req,
                                                                  v1::DecideExtensionResponse* resp) {
  if (auto a = auth_->Authorize(ctx, kCentre); !a.ok()) return Refuse(ctx, a.status());
  return Done(ctx, d_->DecideExtension(*req), resp);
}

grpc::ServerUnaryReactor* SupervisionServiceImpl::CloseTicket(grpc::CallbackServerContext* ctx,
                                                              const v1::CloseTicketRequest* req,
                                                              v1::CloseTicketResponse* resp) {
  if (auto a = auth_->Authorize(ctx, kCentre); !a.ok()) return Refuse(ctx, a.status());
  return Done(ctx, d_->Close(req->ticket_id(), req->reviewer_id()), resp);
}

grpc::ServerUnaryReactor* SupervisionServiceImpl::ReopenTicket(grpc::CallbackServerContext* ctx,
                                                               const v1::ReopenTicketRequest* req,
                                                               v1::ReopenTicketResponse* resp) {
  if (auto a = auth_->Authorize(ctx, kCentre); !a.ok()) return Refuse(ctx, a.status());
  if (req->reason().empty()) {
    auto* r = ctx->DefaultReactor();
    r->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "reason: is required to reopen a ticket"));
    return r;
  }
  return Done(ctx, d_->Reopen(req->ticket_id(), req->reason()), resp);
}

}  // namespace hotline::dispatch
