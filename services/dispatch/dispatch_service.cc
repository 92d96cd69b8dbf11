#include "services/dispatch/dispatch_service.h"

#include <deque>
#include <memory>
#include <regex>

#include "absl/synchronization/mutex.h"
#include "services/common/log.h"
#include "services/dispatch/dispatch_api.h"

namespace hotline::dispatch {
namespace {

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
    void Fail(const absl::Status& status) override {
      End(ClientStatus(status, "assignment-stream"));
    }

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
        case kWriteNext:
          r->StartWrite(next);
          break;
        case kAskForMore:
          notifier_->Ready(this);
          break;
        case kFinish:
          r->Finish(status_);
          break;
        case kNothing:
          break;
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
      sink_->End(ClientStatus(
          s, "assignment-stream"));  // past DISPATCH_MAX_STREAMS: RESOURCE_EXHAUSTED at once
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

class ImmediateError : public grpc::ServerWriteReactor<v1::StreamAssignedTicketsResponse> {
 public:
  explicit ImmediateError(grpc::Status s) { Finish(s); }
  void OnDone() override { delete this; }
};

}  // namespace

TriageServiceImpl::TriageServiceImpl(Dispatcher* d, RpcCore* rpc)
    : GatedService(rpc, &DispatchApi()), d_(d) {
  Handle("TriageService/ListTriage",
         [this](const Caller&, const v1::ListTriageRequest* req, v1::ListTriageResponse* resp) {
           auto page = ReadPage(req->page(), 50, 500);
           if (!page.ok()) return page.status();
           auto r = d_->ListTriage(page->offset, page->size + 1);
           if (!r.ok()) return r.status();
           for (size_t i = 0; i < r->size() && i < page->size; ++i) *resp->add_tickets() = (*r)[i];
           if (r->size() > page->size)
             resp->mutable_page()->set_next_page_token(NextPageToken(*page));
           return absl::OkStatus();
         });
  Handle("TriageService/AssignTicket",
         [this](const Caller&, const v1::AssignTicketRequest* req, v1::AssignTicketResponse* resp) {
           return Fill(d_->Assign(*req), resp->mutable_ticket());
         });
}

grpc::ServerWriteReactor<v1::StreamAssignedTicketsResponse>*
DepartmentServiceImpl::StreamAssignedTickets(grpc::CallbackServerContext* ctx,
                                             const v1::StreamAssignedTicketsRequest* req) {
  static const std::regex kCursor("^[0-9]+-[0-9]+$");
  const std::string method = "DepartmentService/StreamAssignedTickets";
  auto caller = rpc_->Admit(ctx, DispatchApi(), method, *req);
  if (!caller.ok()) {
    return new ImmediateError(
        rpc_->Finished(method, nullptr, nullptr, *req, caller.status(), 0, false));
  }
  const std::string* dept = &caller->department;
  if (dept->empty()) {
    return new ImmediateError(
        grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "department_id: is required"));
  }
  if (!d_->matrix().Find(*dept)) {
    return new ImmediateError(
        grpc::Status(grpc::StatusCode::NOT_FOUND,
                     "department_id: unknown department '" + req->department_id() + "'"));
  }
  if (!req->after_cursor().empty() && !std::regex_match(req->after_cursor(), kCursor)) {
    return new ImmediateError(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                           "after_cursor: not a cursor this stream sent"));
  }
  return new AssignmentStream(notifier_, *dept, req->after_cursor());
}

DepartmentServiceImpl::DepartmentServiceImpl(Dispatcher* d, RpcCore* rpc,
                                             AssignmentNotifier* notifier)
    : GatedService(rpc, &DispatchApi()), d_(d), notifier_(notifier) {
  // c.department: the caller's own department, or the one a dispatcher or supervisor named
  // (empty for GetDispatchedTicket: the centre's view of any ticket).
  Handle(
      "DepartmentService/AcceptTicket",
      [this](const Caller& c, const v1::AcceptTicketRequest* req, v1::AcceptTicketResponse* resp) {
        return Fill(d_->Accept(req->ticket_id(), c.department), resp->mutable_ticket());
      });
  Handle("DepartmentService/ReturnTicket", [this](const Caller& c,
                                                  const v1::ReturnTicketRequest* req,
                                                  v1::ReturnTicketResponse* resp) {
    return Fill(d_->Return(req->ticket_id(), c.department, req->reason()), resp->mutable_ticket());
  });
  Handle("DepartmentService/RequestExtension",
         [this](const Caller& c, const v1::RequestExtensionRequest* req,
                v1::RequestExtensionResponse* resp) {
           v1::RequestExtensionRequest r = *req;
           r.set_department_id(c.department);
           return Fill(d_->RequestExtension(r), resp->mutable_ticket());
         });
  Handle("DepartmentService/ReplyTicket",
         [this](const Caller& c, const v1::ReplyTicketRequest* req, v1::ReplyTicketResponse* resp) {
           return Fill(d_->Reply(req->ticket_id(), c.department, req->resolution()),
                       resp->mutable_ticket());
         });
  Handle("DepartmentService/GetDispatchedTicket",
         [this](const Caller& c, const v1::GetDispatchedTicketRequest* req,
                v1::GetDispatchedTicketResponse* resp) {
           return Fill(d_->Get(req->ticket_id(), c.department), resp->mutable_ticket());
         });
}

SupervisionServiceImpl::SupervisionServiceImpl(Dispatcher* d, RpcCore* rpc)
    : GatedService(rpc, &DispatchApi()), d_(d) {
  Handle("SupervisionService/DecideExtension",
         [this](const Caller&, const v1::DecideExtensionRequest* req,
                v1::DecideExtensionResponse* resp) {
           return Fill(d_->DecideExtension(*req), resp->mutable_ticket());
         });
  Handle("SupervisionService/CloseTicket",
         [this](const Caller&, const v1::CloseTicketRequest* req, v1::CloseTicketResponse* resp) {
           return Fill(d_->Close(req->ticket_id(), req->reviewer_id()), resp->mutable_ticket());
         });
  Handle("SupervisionService/ReopenTicket",
         [this](const Caller&, const v1::ReopenTicketRequest* req, v1::ReopenTicketResponse* resp) {
           if (req->reason().empty())
             return absl::InvalidArgumentError("reason: is required to reopen a ticket");
           return Fill(d_->Reopen(req->ticket_id(), req->reason()), resp->mutable_ticket());
         });
}

}  // namespace hotline::dispatch
