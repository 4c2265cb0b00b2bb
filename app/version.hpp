// The version and the git commit this binary was built from (SPEC §1:
// `matchsync --version`). Written at build time by app/version.cmake.
#pragma once

namespace matchsync::app {

extern const char* const version;
/// Short commit hash, "-dirty" when built with uncommitted changes,
/// "unknown" when built outside a git checkout.
extern const char* const git_commit;

}  // namespace matchsync::app
