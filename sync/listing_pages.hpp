// A full sync's whole listing, kept compact for the list steps that commit
// it a page at a time: each row's JSON text end to end, where each starts,
// and its match id. Pure, free of CAF and SQL.
//
// Why not the parsed tree: 10,000 rows of OpenDota's list are 2.6 MB of
// text but 16 MB as nlohmann nodes (measured), and a full sync holds its
// listing across all its list steps; 16 jobs listing 10,000 matches at
// once peaked at 305 MB with trees, even when each was only built and
// dropped (the tree-free listing: client::whole_history).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace matchsync::sync {

/// The match ids of listed rows, in order; rows without an integer
/// `match_id` have none (the store skips them too).
std::vector<std::int64_t> listed_ids(const nlohmann::json& rows);

class listing_pages {
public:
  /// `listing`: the listing's JSON text, an array (anything else, or text
  /// that is not JSON, lists nothing). Parsed a row at a time: no tree of
  /// the whole listing is ever built.
  explicit listing_pages(const std::string& listing);

  /// How many rows were listed.
  std::size_t size() const { return starts_.empty() ? 0 : starts_.size() - 1; }

  /// One page: rows [from, from + count), clipped to the listing.
  struct page {
    std::size_t rows = 0;
    /// The rows as a JSON array, the same text as the tree's dump() of them.
    std::string text;
    std::vector<std::int64_t> ids;  ///< as listed_ids
  };
  page page_at(std::size_t from, std::size_t count) const;

private:
  std::string text_;                ///< each row's dump followed by ','
  std::vector<std::size_t> starts_;  ///< where each row starts, then the end
  std::vector<std::int64_t> ids_;   ///< per row; has_id_ says if it has one
  std::vector<bool> has_id_;
};

}  // namespace matchsync::sync
