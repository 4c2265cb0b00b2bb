// Mends the one kind of upstream JSON that is valid text but that jsonb
// refuses: \u escapes of U+0000 and of unpaired surrogates (Node's
// JSON.stringify writes a Steam name cut inside an emoji as "\ud83d").
// Pure; works on any bytes, so it can be fuzzed alone.
#pragma once

#include <cstddef>
#include <string>

namespace matchsync::upstream {

/// Replaces, inside JSON strings, every `\u0000` escape and every surrogate
/// escape that is not half of a pair (a high one not followed by a low
/// one, a low one not preceded by a high one) with `\ufffd`, the escape of
/// U+FFFD. Nothing else changes: the text keeps its length, a valid pair
/// (`\ud83d\ude00`) and an escaped backslash (`\\ud83d` is a backslash and
/// the letters "ud83d") stay as they are. Returns how many escapes were
/// replaced (0: the text is untouched).
std::size_t repair_unstorable_escapes(std::string& json_text);

}  // namespace matchsync::upstream
