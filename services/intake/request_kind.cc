#include "services/intake/request_kind.h"

#include <array>
#include <utility>
#include <vector>

namespace hotline::intake {
namespace {

struct Cue {
  const char* phrase;
  int weight;
};

// Cue phrases in normalised form (Simplified, lower-case). Weights: 3 = the citizen names the
// type ("投诉", "举报"), 2 = strong signal, 1 = hint.
const std::vector<std::pair<v1::TicketType, std::vector<Cue>>>& Cues() {
  static const auto* cues = new std::vector<std::pair<v1::TicketType, std::vector<Cue>>>{
      {v1::TICKET_TYPE_REPORT,
       {{"举报", 3},
        {"违法", 2},
        {"违规", 1},
        {"非法", 2},
        {"偷排", 2},
        {"无证经营", 2},
        {"黑车", 2},
        {"传销", 2},
        {"诈骗", 2},
        {"私自", 1},
        {"偷倒", 2},
        {"违建", 2},
        {"违章搭建", 2},
        {"report", 2},
        {"illegal", 2}}},
      {v1::TICKET_TYPE_COMPLAINT,
       {{"投诉", 3},
        {"扰民", 2},
        {"噪音", 2},
        {"乱收费", 2},
        {"不作为", 2},
        {"态度差", 2},
        {"态度恶劣", 2},
        {"拖欠", 2},
        {"污染", 1},
        {"臭味", 1},
        {"不满", 2},
        {"太吵", 2},
        {"一直没有", 1},
        {"多次反映", 2},
        {"没人管", 2},
        {"complain", 3},
        {"noise", 2},
        {"loud", 1},
        {"not fixed", 1}}},
      {v1::TICKET_TYPE_HELP,
       {{"求助", 3},
        {"救助", 2},
        {"帮忙", 1},
        {"帮助", 1},
        {"被困", 2},
        {"走失", 2},
        {"困难", 1},
        {"无家可归", 2},
        {"救命", 3},
        {"help", 2},
        {"trapped", 2},
        {"stuck", 1}}},
      {v1::TICKET_TYPE_SUGGESTION,
       {{"建议", 3},
        {"提议", 2},
        {"希望增加", 2},
        {"希望增设", 2},
        {"能否增设", 2},
        {"呼吁", 2},
        {"应该增加", 2},
        {"suggest", 3},
        {"would be nice", 2},
        {"should add", 2}}},
      {v1::TICKET_TYPE_PRAISE,
       {{"表扬", 3},
        {"感谢", 2},
        {"点赞", 2},
        {"锦旗", 2},
        {"赞扬", 3},
        {"非常满意", 2},
        {"thank", 2},
        {"praise", 3},
        {"great job", 2}}},
      {v1::TICKET_TYPE_CONSULTATION,
       {{"咨询", 3},     {"请问", 2},   {"如何", 1},      {"怎么办理", 2}, {"怎样", 1},
        {"怎么", 1},     {"哪里", 1},   {"什么时候", 1},  {"是否", 1},     {"能否", 1},
        {"需要什么", 2}, {"流程", 1},   {"多少钱", 1},    {"想问", 2},     {"想了解", 2},
        {"how do i", 2}, {"how to", 2}, {"where can", 2}, {"when is", 1},  {"what is", 1},
        {"can i", 1}}},
  };
  return *cues;
}

const char* const kUrgentCues[] = {"燃气泄漏",
                                   "煤气泄漏",
                                   "天然气泄漏",
                                   "漏气",
                                   "闻到煤气",
                                   "闻到燃气",
                                   "爆管",
                                   "水管爆裂",
                                   "水管爆了",
                                   "自来水管爆",
                                   "被困电梯",
                                   "困在电梯",
                                   "电梯困人",
                                   "关在电梯",
                                   "着火",
                                   "火灾",
                                   "起火",
                                   "坍塌",
                                   "塌陷",
                                   "触电",
                                   "电线掉落",
                                   "电线断落",
                                   "井盖丢失",
                                   "没有井盖",
                                   "溺水",
                                   "晕倒",
                                   "gas leak",
                                   "smell gas",
                                   "water main",
                                   "trapped in",
                                   "on fire",
                                   "house fire",
                                   "collapsed",
                                   "power line down",
                                   "downed power line"};

}  // namespace

v1::TicketType DetectType(const std::string& text, v1::TicketType hint) {
  if (hint != v1::TICKET_TYPE_UNSPECIFIED) return hint;
  v1::TicketType best = v1::TICKET_TYPE_UNSPECIFIED;
  int best_score = 0;
  // Earlier types win ties: a report or complaint phrased as a question is still one.
  for (const auto& [type, cues] : Cues()) {
    int score = 0;
    for (const auto& cue : cues) {
      if (text.find(cue.phrase) != std::string::npos) score += cue.weight;
    }
    if (score > best_score) {
      best = type;
      best_score = score;
    }
  }
  if (best != v1::TICKET_TYPE_UNSPECIFIED) return best;
  // No cue at all: a question is a consultation, anything else a complaint about a problem.
  bool question = text.find("吗") != std::string::npos || text.find("呢") != std::string::npos;
  return question ? v1::TICKET_TYPE_CONSULTATION : v1::TICKET_TYPE_COMPLAINT;
}

std::string UrgentCue(const std::string& text) {
  for (const char* cue : kUrgentCues) {
    if (text.find(cue) != std::string::npos) return cue;
  }
  return "";
}

}  // namespace hotline::intake
