#include "services/dispatch/dispatch_service.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <regex>
#include <thread>

#include "services/common/grpc_status.h"
#include "services/common/log.h"
#include "services/dispatch/dispatch_api.h"

namespace hotline::dispatch {
namespace {

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

TriageServiceImpl::TriageServiceImpl(Dispatcher* d, RpcCore* rpc)
    : GatedService(rpc, &DispatchApi()), d_(d) {
  Handle("TriageService/ListTriage",
         [this](const Caller&, const v1::ListTriageRequest* req, v1::ListTriageResponse* resp) {
           auto page = ReadPage(req->page(), 50, 500);
           if (!page.ok()) return page.status();
           auto r = d_->ListTriage(page->offset, page->size + 1);
           if (!r.ok()) return r.status();
           for (size_t i = 0; i < r->size() && i < page->size; ++i) *resp->add_tickets() = (*r)[i];
           if (r->size() > page->size) resp->mutable_page()->set_next_page_token(NextPageToken(*page));
           return absl::OkStatus();
         });
  Handle("TriageService/AssignTicket",
         [this](const Caller&, const v1::AssignTicketRequest* req, v1::AssignTicketResponse* resp) {
           return Fill(d_->Assign(*req), resp->mutable_ticket());
         });
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

DepartmentServiceImpl::DepartmentServiceImpl(Dispatcher* d, const Authenticator* auth, RpcCore* rpc,
                                             std::chrono::milliseconds poll)
    : GatedService(rpc, &DispatchApi()), d_(d), auth_(auth), poll_(poll) {
  // c.department: the caller's own department, or the one a dispatcher or supervisor named
  // (empty for GetDispatchedTicket: the centre's view of any ticket).
  Handle("DepartmentService/AcceptTicket",
         [this](const Caller& c, const v1::AcceptTicketRequest* req, v1::AcceptTicketResponse* resp) {
           return Fill(d_->Accept(req->ticket_id(), c.department), resp->mutable_ticket());
         });
  Handle("DepartmentService/ReturnTicket",
         [this](const Caller& c, const v1::ReturnTicketRequest* req, v1::ReturnTicketResponse* resp) {
           return Fill(d_->Return(req->ticket_id(), c.department, req->reason()), resp->mutable_ticket());
         });
  Handle("DepartmentService/RequestExtension", [this](const Caller& c, const v1::RequestExtensionRequest* req,
                                                      v1::RequestExtensionResponse* resp) {
    v1::RequestExtensionRequest r = *req;
    r.set_department_id(c.department);
    return Fill(d_->RequestExtension(r), resp->mutable_ticket());
  });
  Handle("DepartmentService/ReplyTicket",
         [this](const Caller& c, const v1::ReplyTicketRequest* req, v1::ReplyTicketResponse* resp) {
           return Fill(d_->Reply(req->ticket_id(), c.department, req->resolution()), resp->mutable_ticket());
         });
  Handle("DepartmentService/GetDispatchedTicket", [this](const Caller& c, const v1::GetDispatchedTicketRequest* req,
                                                         v1::GetDispatchedTicketResponse* resp) {
    return Fill(d_->Get(req->ticket_id(), c.department), resp->mutable_ticket());
  });
}

SupervisionServiceImpl::SupervisionServiceImpl(Dispatcher* d, RpcCore* rpc)
    : GatedService(rpc, &DispatchApi()), d_(d) {
  Handle("SupervisionService/DecideExtension", [this](const Caller&, const v1::DecideExtensionRequest* req,
                                                      v1::DecideExtensionResponse* resp) {
    return Fill(d_->DecideExtension(*req), resp->mutable_ticket());
  });
  Handle("SupervisionService/CloseTicket",
         [this](const Caller&, const v1::CloseTicketRequest* req, v1::CloseTicketResponse* resp) {
           return Fill(d_->Close(req->ticket_id(), req->reviewer_id()), resp->mutable_ticket());
         });
  Handle("SupervisionService/ReopenTicket",
         [this](const Caller&, const v1::ReopenTicketRequest* req, v1::ReopenTicketResponse* resp) {
           if (req->reason().empty()) return absl::InvalidArgumentError("reason: is required to reopen a ticket");
           return Fill(d_->Reopen(req->ticket_id(), req->reason()), resp->mutable_ticket());
         });
}

}  // namespace hotline::dispatch
