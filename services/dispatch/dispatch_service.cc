#include "services/dispatch/dispatch_service.h"

#include <deque>
#include <memory>
#include <regex>

#include "absl/synchronization/mutex.h"

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

// One department stream: the notifier (one thread per instance) hands it batches of tickets after
// its cursor; it writes them one by one from gRPC's write callbacks and asks for more when it has
// written them all. No thread and no Redis reads of its own. Each message carries the ticket's
// current state and the cursor to resume from.
class AssignmentStream : public grpc::ServerWriteReactor<v1::StreamAssignedTicketsResponse> {
 public:
  // The notifier's side of the stream. It outlives the reactor when the notifier is handing
  // over a batch as the call ends; `reactor_` is cleared then and the batch dropped.
  class Sink : public AssignmentSink {
   public:
    Sink(AssignmentStream* r, AssignmentNotifier* n) : reactor_(r), notifier_(n) {}

    void Deliver(std::vector<v1::StreamAssignedTicketsResponse> batch) override {
      const v1::StreamAssignedTicketsResponse* first = nullptr;
      AssignmentStream* r = nullptr;
      {
        absl::MutexLock l(&mu_);
        r = reactor_;
        if (reactor_ == nullptr || finishing_) return;
        for (auto& m : batch) queue_.push_back(std::move(m));
        if (writing_ || queue_.empty()) return;
        writing_ = true;
        first = &queue_.front();  // deque: stays put while later messages are appended
      }
      // Safe outside the lock: with a write in flight nobody finishes the call, so the reactor
      // cannot be deleted before this write's OnWriteDone.
      r->StartWrite(first);
    }
    void Fail(const absl::Status& status) override { End(ToGrpcStatus(status)); }

    void OnWriteDone(bool ok) {
      enum { kWriteNext, kAskForMore, kFinish, kNothing } then = kNothing;
      const v1::StreamAssignedTicketsResponse* next = nullptr;
      AssignmentStream* r = nullptr;
      {
        absl::MutexLock l(&mu_);
        r = reactor_;
        writing_ = false;
        queue_.pop_front();
        if (!ok && !finishing_) {
          finishing_ = true;
          status_ = grpc::Status(grpc::StatusCode::CANCELLED, "stream closed");
        }
        if (finishing_) {
          if (!finish_sent_) {
            finish_sent_ = true;
            then = kFinish;
          }
        } else if (!queue_.empty()) {
          writing_ = true;
          next = &queue_.front();
          then = kWriteNext;
        } else {
          then = kAskForMore;
        }
      }
      switch (then) {
        case kWriteNext: r->StartWrite(next); break;
        case kAskForMore: notifier_->Ready(this); break;
        case kFinish: r->Finish(status_); break;
        case kNothing: break;
      }
    }
    // Ends the call with `status` once no write is in flight.
    void End(const grpc::Status& status) {
      AssignmentStream* r = nullptr;
      {
        absl::MutexLock l(&mu_);
        r = reactor_;
        if (reactor_ == nullptr || finishing_) return;
        finishing_ = true;
        status_ = status;
        if (writing_) return;  // OnWriteDone finishes
        finish_sent_ = true;
      }
      r->Finish(status);
    }
    void Detach() {
      absl::MutexLock l(&mu_);
      reactor_ = nullptr;
    }

   private:
    absl::Mutex mu_;
    AssignmentStream* reactor_ ABSL_GUARDED_BY(mu_);
    AssignmentNotifier* const notifier_;
    std::deque<v1::StreamAssignedTicketsResponse> queue_ ABSL_GUARDED_BY(mu_);
    bool writing_ ABSL_GUARDED_BY(mu_) = false;
    bool finishing_ ABSL_GUARDED_BY(mu_) = false;
    bool finish_sent_ ABSL_GUARDED_BY(mu_) = false;
    grpc::Status status_;  // written once, under mu_, before finish_sent_
  };

  AssignmentStream(AssignmentNotifier* notifier, const std::string& dept, const std::string& cursor)
      : notifier_(notifier), sink_(std::make_shared<Sink>(this, notifier)) {
    if (auto s = notifier_->Subscribe(dept, cursor, sink_); !s.ok()) {
      subscribed_ = false;
      sink_->End(ToGrpcStatus(s));  // past DISPATCH_MAX_STREAMS: RESOURCE_EXHAUSTED at once
      return;
    }
    // Headers now, so a client knows the stream is open before the first ticket; then the
    // backlog after the cursor.
    StartSendInitialMetadata();
    notifier_->Ready(sink_.get());
  }
  void OnWriteDone(bool ok) override { sink_->OnWriteDone(ok); }
  void OnCancel() override { sink_->End(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled")); }
  void OnDone() override {
    if (subscribed_) notifier_->Unsubscribe(sink_.get());
    sink_->Detach();
    delete this;
  }

 private:
  AssignmentNotifier* notifier_;
  std::shared_ptr<Sink> sink_;
  bool subscribed_ = true;
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
  return new AssignmentStream(notifier_, *dept, req->after_cursor());
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
