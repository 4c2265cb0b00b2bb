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

listing_pages::listing_pages(const nlohmann::json& rows) {
  if (!rows.is_array())
    return;
  starts_.reserve(rows.size() + 1);
  ids_.reserve(rows.size());
  has_id_.reserve(rows.size());
  for (auto& row : rows) {
    starts_.push_back(text_.size());
    text_ += row.dump();
    text_ += ',';
    auto id = id_of(row);
    ids_.push_back(id ? id->get<std::int64_t>() : 0);
    has_id_.push_back(id != nullptr);
  }
  starts_.push_back(text_.size());
  text_.shrink_to_fit();  // grown by doubling: up to half of it unused
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
