#include "sync/listing_pages.hpp"

#include <algorithm>

namespace matchsync::sync {

namespace {
const nlohmann::json* id_of(const nlohmann::json& row) {
  if (!row.is_object())
    return nullptr;
  auto it = row.find("match_id");
  return it != row.end() && it->is_number_integer() ? &*it : nullptr;
}
}  // namespace

std::vector<std::int64_t> listed_ids(const nlohmann::json& rows) {
  std::vector<std::int64_t> out;
  if (rows.is_array())
    for (auto& row : rows)
      if (auto id = id_of(row))
        out.push_back(id->get<std::int64_t>());
  return out;
}

listing_pages::listing_pages(const std::string& listing) {
  using event = nlohmann::json::parse_event_t;
  bool top_is_array = false;
  // Each row, once parsed, is dumped here and dropped from the tree (the
  // callback answers false), so the tree never holds more than one row.
  auto keep_row = [&](int depth, event e, nlohmann::json& parsed) {
    if (depth == 0 && e == event::array_start)
      top_is_array = true;
    bool row_done = e == event::object_end || e == event::array_end || e == event::value;
    if (depth != 1 || !row_done || !top_is_array)
      return true;
    starts_.push_back(text_.size());
    text_ += parsed.dump();
    text_ += ',';
    auto id = id_of(parsed);
    ids_.push_back(id ? id->get<std::int64_t>() : 0);
    has_id_.push_back(id != nullptr);
    return false;
  };
  auto whole = nlohmann::json::parse(listing, keep_row, false);
  if (whole.is_discarded() || !top_is_array) {
    text_.clear();
    starts_.clear();
    ids_.clear();
    has_id_.clear();
    return;
  }
  starts_.push_back(text_.size());
  text_.shrink_to_fit();  // grown by doubling: up to half of it unused
  starts_.shrink_to_fit();
  ids_.shrink_to_fit();
}

listing_pages::page listing_pages::page_at(std::size_t from, std::size_t count) const {
  page p;
  from = std::min(from, size());
  auto to = from + std::min(count, size() - from);
  p.rows = to - from;
  p.text = "[";
  if (p.rows > 0)  // without the last row's ','
    p.text.append(text_, starts_[from], starts_[to] - starts_[from] - 1);
  p.text += "]";
  for (auto k = from; k < to; ++k)
    if (has_id_[k])
      p.ids.push_back(ids_[k]);
  return p;
}

}  // namespace matchsync::sync
