#pragma once

#include <CLI/CLI.hpp>

#include "tools/ctl/ctl_context.h"

namespace signpost::ctl {

// Each adds its subcommands; a subcommand sets `exit_code` when it runs.
void AddReferralCommands(CLI::App& app, CtlContext& ctx, int& exit_code);
void AddDirectoryCommands(CLI::App& app, CtlContext& ctx, int& exit_code);
void AddTaskCommands(CLI::App& app, CtlContext& ctx, int& exit_code);
void AddOpsCommands(CLI::App& app, CtlContext& ctx, int& exit_code);
void AddTopicCommands(CLI::App& app, CtlContext& ctx, int& exit_code);
void AddKeyCommands(CLI::App& app, CtlContext& ctx, int& exit_code);
void AddTokenCommands(CLI::App& app, CtlContext& ctx, int& exit_code);

}  // namespace signpost::ctl
