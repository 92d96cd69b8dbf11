#pragma once

#include "services/common/service_runner.h"

namespace hotline {

// The handler of a service whose domain logic is not built yet: it applies nothing but the
// record that the event arrived (a per-payload count in the service's own Redis, idempotently),
// so the consumer group, offsets and dead-lettering are real from the first version on.
EventHandler MakeRecordingHandler(ServiceContext& ctx);

}  // namespace hotline
