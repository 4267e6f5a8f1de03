using System.CommandLine;
using Steward.Cli;

var url = new Option<string?>("--url") { Description = "Broker URL (STEWARD_URL; default http://127.0.0.1:8090)", Recursive = true };
var username = new Option<string?>("--username") { Description = "Broker user (STEWARD_USERNAME)", Recursive = true };
var passwordFile = new Option<string?>("--password-file") { Description = "File holding the broker password, or - for standard input (or STEWARD_PASSWORD)", Recursive = true };
var tokenFile = new Option<string?>("--token-file") { Description = "File holding an instance API token from a binding's credentials, or - for standard input (or STEWARD_TOKEN): acts on that instance only", Recursive = true };
var dataDir = new Option<string?>("--data-dir") { Description = "Local broker data directory holding broker-credentials (STEWARD_DATA_DIR)", Recursive = true };
var json = new Option<bool>("--json") { Description = "Print JSON instead of a table" };
var noWait = new Option<bool>("--no-wait") { Description = "Return once the broker accepted the request" };
var param = new Option<string[]>("--param", "-p") { Description = "A parameter as key=value (repeatable)", AllowMultipleArgumentsPerToken = false };
var instanceId = new Argument<string>("instance") { Description = "Instance id" };

var root = new RootCommand("steward: self-service PostgreSQL and Redis instances through the Steward broker");
root.Options.Add(url);
root.Options.Add(username);
root.Options.Add(passwordFile);
root.Options.Add(dataDir);
root.Options.Add(tokenFile);

Command Cmd(string name, string description, Func<ParseResult, StewardClient, CancellationToken, Task<int>> run, params Symbol[] symbols) =>
    Sub(null, name, description, run, symbols);

Command Sub(Command? parent, string name, string description, Func<ParseResult, StewardClient, CancellationToken, Task<int>> run, params Symbol[] symbols)
{
    var command = new Command(name, description);
    foreach (var symbol in symbols)
    {
        switch (symbol)
        {
            case Argument a:
                command.Arguments.Add(a);
                break;
            case Option o:
                command.Options.Add(o);
                break;
        }
    }

    command.SetAction(async (result, ct) =>
    {
        try
        {
            using var client = new StewardClient(BrokerConnection.Resolve(result.GetValue(url), result.GetValue(username), SecretInput.Read(result.GetValue(passwordFile), "--password-file"), result.GetValue(dataDir), SecretInput.Read(result.GetValue(tokenFile), "--token-file")));
            return await run(result, client, ct);
        }
        catch (CliException ex)
        {
            Console.Error.WriteLine($"steward {name}: {ex.Message}");
            return ex.ExitCode;
        }
    });
    (parent ?? root).Subcommands.Add(command);
    return command;
}

var service = new Argument<string>("service") { Description = "Service name from the catalog (postgresql, redis)" };
var plan = new Argument<string>("plan") { Description = "Plan name from the catalog (standalone, ...)" };
var id = new Option<string?>("--id") { Description = "Instance id to use (default: a new one)" };
var planOption = new Option<string?>("--plan") { Description = "New plan name" };
var bindingId = new Option<string?>("--binding-id") { Description = "Binding id to use (default: a new one)" };
var bindingArg = new Argument<string>("binding") { Description = "Binding id" };
var organization = new Option<string?>("--organization") { Description = "organization_guid sent with the OSB provision (STEWARD_ORGANIZATION; default 'steward')" };
var space = new Option<string?>("--space") { Description = "space_guid sent with the OSB provision (STEWARD_SPACE; default 'default')" };

Cmd("catalog", "List services and plans", (r, c, ct) => InstanceCommands.CatalogAsync(c, r.GetValue(json), ct), json);
var cloneFrom = new Option<string?>("--clone-from") { Description = "Create the instance as a clone of this instance's backup (same organization and space, or --clone-token-file)" };
var backupOption = new Option<string?>("--backup") { Description = "The backup to use (default: the latest succeeded one)" };
var cloneTokenFile = new Option<string?>("--clone-token-file") { Description = "File (or - for standard input) holding the source instance's API token, to clone across organizations or spaces" };
var cloneToTime = new Option<string?>("--to-time") { Description = "With --clone-from (PostgreSQL with WAL archiving): the source as it was at this RFC 3339 time" };
var cloneToLsn = new Option<string?>("--to-lsn") { Description = "With --clone-from: the source as it was at this LSN" };
var cloneToPoint = new Option<string?>("--to-restore-point") { Description = "With --clone-from: the source as it was at this named restore point" };
var cloneLatest = new Option<bool>("--latest") { Description = "With --clone-from: the source's latest archived state (instead of its latest backup)" };
Cmd("create", "Create an instance and wait until it is ready", (r, c, ct) =>
    InstanceCommands.CreateAsync(c, r.GetValue(service)!, r.GetValue(plan)!, r.GetValue(id), r.GetValue(param), PlatformGuids.From(r.GetValue(organization), r.GetValue(space)), !r.GetValue(noWait), ct,
        r.GetValue(cloneFrom) is { } source
            ? new InstanceCommands.CloneFrom(source, r.GetValue(backupOption), SecretInput.Read(r.GetValue(cloneTokenFile), "--clone-token-file"), r.GetValue(cloneToTime), r.GetValue(cloneToLsn), r.GetValue(cloneToPoint), r.GetValue(cloneLatest))
            : r.GetValue(cloneToTime) is not null || r.GetValue(cloneToLsn) is not null || r.GetValue(cloneToPoint) is not null || r.GetValue(cloneLatest) || r.GetValue(backupOption) is not null
                ? throw new CliException(ExitCodes.Usage, "--backup, --to-time, --to-lsn, --to-restore-point and --latest choose what a clone copies: give --clone-from too")
                : null),
    service, plan, id, param, organization, space, noWait, cloneFrom, backupOption, cloneToTime, cloneToLsn, cloneToPoint, cloneLatest, cloneTokenFile);
Cmd("list", "List instances", (r, c, ct) => InstanceCommands.ListAsync(c, r.GetValue(json), ct), json);
Cmd("show", "Show one instance", (r, c, ct) => InstanceCommands.ShowAsync(c, r.GetValue(instanceId)!, r.GetValue(json), ct), instanceId, json);
Cmd("update", "Change an instance's plan or parameters", (r, c, ct) =>
    InstanceCommands.UpdateAsync(c, r.GetValue(instanceId)!, r.GetValue(planOption), r.GetValue(param), !r.GetValue(noWait), ct), instanceId, planOption, param, noWait);
Cmd("bind", "Create credentials for an instance and print them", (r, c, ct) =>
    BindingCommands.BindAsync(c, r.GetValue(instanceId)!, r.GetValue(bindingId), r.GetValue(param), r.GetValue(json), ct), instanceId, bindingId, param, json);
Cmd("unbind", "Remove a binding; its credentials stop working", (r, c, ct) =>
    BindingCommands.UnbindAsync(c, r.GetValue(instanceId)!, r.GetValue(bindingArg)!, ct), instanceId, bindingArg);
Cmd("delete", "Delete an instance, its processes and its data", (r, c, ct) =>
    InstanceCommands.DeleteAsync(c, r.GetValue(instanceId)!, !r.GetValue(noWait), ct), instanceId, noWait);

var member = new Option<string?>("--to") { Description = "The standby to promote (default: the most advanced streaming standby)" };
Cmd("members", "Members of a highly available instance: role, state, WAL position, lag", (r, c, ct) => HaCommands.MembersAsync(c, r.GetValue(instanceId)!, r.GetValue(json), ct), instanceId, json);
Cmd("switchover", "Make a standby of a highly available instance the primary, without losing a write", (r, c, ct) =>
    HaCommands.SwitchoverAsync(c, r.GetValue(instanceId)!, r.GetValue(member), ct), instanceId, member);

var incidents = new Command("incidents", "Failures the supervisor recorded: what happened, why, what was done");
root.Subcommands.Add(incidents);
var instanceFilter = new Option<string?>("--instance") { Description = "Only this instance's incidents" };
var incidentId = new Argument<string>("incident") { Description = "Incident id" };
Sub(incidents, "list", "List incidents, newest first", (r, c, ct) => IncidentCommands.ListAsync(c, r.GetValue(instanceFilter), r.GetValue(json), ct), instanceFilter, json);
Sub(incidents, "show", "Show an incident's timeline and evidence", (r, c, ct) => IncidentCommands.ShowAsync(c, r.GetValue(incidentId)!, r.GetValue(json), ct), incidentId, json);
Cmd("health", "Health of every instance (exit code 1 unless all are healthy)", (r, c, ct) => IncidentCommands.HealthAsync(c, r.GetValue(json), ct), json);

Cmd("dashboard", "Print a one-time login link to an instance's dashboard (valid a few minutes)", (r, c, ct) => DashboardCommands.LinkAsync(c, r.GetValue(instanceId)!, ct), instanceId);

var backup = new Command("backup", "Back up and restore instances through the streaming pipeline");
root.Subcommands.Add(backup);
var kindOption = new Option<string?>("--kind") { Description = "Backup method: physical (default), incremental or logical for postgresql, rdb for redis" };
var backupId = new Argument<string>("backup") { Description = "Backup id" };
Sub(backup, "create", "Back up an instance, with a progress bar (bytes, rate, stage)", (r, c, ct) =>
    BackupCommands.CreateAsync(c, r.GetValue(instanceId)!, r.GetValue(kindOption), !r.GetValue(noWait), r.GetValue(json), ct), instanceId, kindOption, noWait, json);
Sub(backup, "list", "List an instance's backups", (r, c, ct) => BackupCommands.ListAsync(c, r.GetValue(instanceId)!, r.GetValue(json), ct), instanceId, json);
Sub(backup, "show", "Show a backup: state, size, duration, throughput, failing stage, manifest", (r, c, ct) => BackupCommands.ShowAsync(c, r.GetValue(backupId)!, ct), backupId);
Sub(backup, "delete", "Delete a backup (or cancel one that is running)", (r, c, ct) => BackupCommands.DeleteAsync(c, r.GetValue(backupId)!, ct), backupId);
var restoreBackup = new Argument<string?>("backup") { Description = "Backup id (or give a point-in-time target instead)", Arity = ArgumentArity.ZeroOrOne };
var toTime = new Option<string?>("--to-time") { Description = "Replay archived WAL to this RFC 3339 time (PostgreSQL)" };
var toLsn = new Option<string?>("--to-lsn") { Description = "Replay archived WAL to this LSN, e.g. 0/3000028 (PostgreSQL)" };
var toPoint = new Option<string?>("--to-restore-point") { Description = "Replay archived WAL to a named restore point (PostgreSQL)" };
var latest = new Option<bool>("--latest") { Description = "Point-in-time restore to the latest archived state (PostgreSQL)" };
Sub(backup, "restore", "Restore an instance from one of its backups, or to a point in time", (r, c, ct) =>
    r.GetValue(toTime) is not null || r.GetValue(toLsn) is not null || r.GetValue(toPoint) is not null || r.GetValue(latest)
        ? WalCommands.RestoreAsync(c, r.GetValue(instanceId)!, r.GetValue(toTime), r.GetValue(toLsn), r.GetValue(toPoint), r.GetValue(latest), !r.GetValue(noWait), ct)
        : r.GetValue(restoreBackup) is { } b
            ? BackupCommands.RestoreAsync(c, r.GetValue(instanceId)!, b, !r.GetValue(noWait), ct)
            : throw new CliException(ExitCodes.Usage, "name a backup id, or a target: --to-time T | --to-lsn L | --to-restore-point NAME | --latest"),
    instanceId, restoreBackup, toTime, toLsn, toPoint, latest, noWait);
Sub(backup, "window", "Show the recoverable window: earliest and latest time a restore can reach", (r, c, ct) => WalCommands.WindowAsync(c, r.GetValue(instanceId)!, r.GetValue(json), ct), instanceId, json);
Sub(backup, "wal", "Show WAL archiving: last archived segment, lag, failures", (r, c, ct) => WalCommands.ArchiveStatusAsync(c, r.GetValue(instanceId)!, ct), instanceId);

var restorePoint = new Command("restore-point", "Named points in an instance's WAL that a point-in-time restore can target");
root.Subcommands.Add(restorePoint);
var pointName = new Argument<string>("name") { Description = "Restore point name (letters, digits, '.', '_', '-')" };
Sub(restorePoint, "create", "Create a named restore point (pg_create_restore_point)", (r, c, ct) => WalCommands.CreatePointAsync(c, r.GetValue(instanceId)!, r.GetValue(pointName)!, ct), instanceId, pointName);
Sub(restorePoint, "list", "List an instance's restore points", (r, c, ct) => WalCommands.ListPointsAsync(c, r.GetValue(instanceId)!, r.GetValue(json), ct), instanceId, json);

var rebuildLatest = new Option<bool>("--latest") { Description = "Rebuild to the latest recoverable point (the default): the newest backup and, for PostgreSQL, all archived WAL after it" };
var rebuildEmpty = new Option<bool>("--empty") { Description = "Rebuild with no data at all (only when there is no backup to use)" };
var rebuildReason = new Option<string?>("--reason") { Description = "Why, recorded with the rebuild's incident" };
Cmd("rebuild", "Recreate an instance from scratch with a backup: same id, port and binding credentials; its old files are kept aside", (r, c, ct) =>
    RebuildCommands.RebuildAsync(c, r.GetValue(instanceId)!, new RebuildCommands.Source(r.GetValue(backupOption), r.GetValue(rebuildLatest), r.GetValue(rebuildEmpty), r.GetValue(toTime), r.GetValue(toLsn), r.GetValue(toPoint)), r.GetValue(rebuildReason), !r.GetValue(noWait), ct),
    instanceId, backupOption, rebuildLatest, toTime, toLsn, toPoint, rebuildEmpty, rebuildReason, noWait);

var checkFile = new Option<string?>("--check") { Description = "Your own check: a file of SQL whose every result is true (PostgreSQL), or lines PATTERN OP COUNT (Redis, e.g. user:* >= 1000)" };
var keepSandbox = new Option<bool>("--keep") { Description = "Keep the sandbox's files after the checks (removed after STEWARD_REHEARSAL_KEEP_HOURS)" };
Cmd("rehearse", "Prove a backup restorable: restore it into an isolated sandbox, check it, measure the restore time", (r, c, ct) =>
    RehearsalCommands.RehearseAsync(c, r.GetValue(instanceId)!, r.GetValue(backupOption), r.GetValue(toTime), r.GetValue(checkFile), r.GetValue(keepSandbox), !r.GetValue(noWait), r.GetValue(json), ct),
    instanceId, backupOption, toTime, checkFile, keepSandbox, noWait, json);
var rehearsals = new Command("rehearsals", "Restore rehearsals: what was proven restorable, when, how fast");
root.Subcommands.Add(rehearsals);
var rehearsalId = new Argument<string>("rehearsal") { Description = "Rehearsal id" };
Sub(rehearsals, "list", "List an instance's rehearsals, newest first", (r, c, ct) => RehearsalCommands.ListAsync(c, r.GetValue(instanceId)!, r.GetValue(json), ct), instanceId, json);
Sub(rehearsals, "show", "Show a rehearsal's report: checks with their evidence, restore time, sizes", (r, c, ct) => RehearsalCommands.ShowAsync(c, r.GetValue(rehearsalId)!, r.GetValue(json), ct), rehearsalId, json);

Cmd("verify", "Check a live PostgreSQL instance for damaged pages (pg_amcheck, checksum failures, the server log); damage found becomes an incident", (r, c, ct) =>
    RehearsalCommands.VerifyAsync(c, r.GetValue(instanceId)!, r.GetValue(json), ct), instanceId, json);

var dryRun = new Option<bool>("--dry-run") { Description = "List what would be replaced and how many bytes; change nothing" };
Cmd("repair", "Replace only the damaged pages of a live PostgreSQL instance with a verified copy's at its exact point (seconds of downtime, no data lost)", (r, c, ct) =>
    RepairCommands.RepairAsync(c, r.GetValue(instanceId)!, r.GetValue(dryRun), r.GetValue(json), !r.GetValue(noWait), ct), instanceId, dryRun, json, noWait);

var schedule = new Command("schedule", "Scheduled backups and their retention: set, show, delete");
backup.Subcommands.Add(schedule);
var cron = new Option<string?>("--cron") { Description = "Cron expression: 5 fields, or 6 with seconds first (e.g. '0 3 * * *', '*/30 * * * * *')" };
var timeZone = new Option<string?>("--time-zone") { Description = "IANA time zone the cron expression is read in (default UTC)" };
var every = new Option<string?>("--every") { Description = "A plain interval instead of cron: 90s, 15m, 6h, 1d" };
var keepLast = new Option<int?>("--keep-last") { Description = "Keep the newest N backups" };
var keepDaily = new Option<int?>("--keep-daily") { Description = "Keep the newest backup of each of the last N days" };
var keepWeekly = new Option<int?>("--keep-weekly") { Description = "Keep the newest backup of each of the last N weeks" };
var keepMonthly = new Option<int?>("--keep-monthly") { Description = "Keep the newest backup of each of the last N months" };
var rehearseOption = new Option<bool>("--rehearse") { Description = "The instance's recurring restore rehearsal (drill of its newest backup) instead of its backups" };
Sub(schedule, "set", "Set an instance's backup schedule and retention (--rehearse: its recurring rehearsal drill)", (r, c, ct) => ScheduleCommands.SetAsync(c, r.GetValue(instanceId)!,
    new ScheduleCommands.Spec(r.GetValue(cron), r.GetValue(timeZone), r.GetValue(every), r.GetValue(kindOption), r.GetValue(keepLast), r.GetValue(keepDaily), r.GetValue(keepWeekly), r.GetValue(keepMonthly), r.GetValue(rehearseOption)),
    r.GetValue(json), ct), instanceId, cron, timeZone, every, kindOption, keepLast, keepDaily, keepWeekly, keepMonthly, rehearseOption, json);
Sub(schedule, "show", "Show an instance's schedule: next run, last run and result, last success, overdue", (r, c, ct) => ScheduleCommands.ShowAsync(c, r.GetValue(instanceId)!, r.GetValue(rehearseOption), r.GetValue(json), ct), instanceId, rehearseOption, json);
Sub(schedule, "delete", "Delete an instance's own schedule (its plan's default, if any, applies again)", (r, c, ct) => ScheduleCommands.DeleteAsync(c, r.GetValue(instanceId)!, r.GetValue(rehearseOption), ct), instanceId, rehearseOption);
Sub(backup, "pin", "Pin a backup: retention never deletes it", (r, c, ct) => ScheduleCommands.PinAsync(c, r.GetValue(backupId)!, true, ct), backupId);
Sub(backup, "unpin", "Unpin a backup: retention applies to it again", (r, c, ct) => ScheduleCommands.PinAsync(c, r.GetValue(backupId)!, false, ct), backupId);

IdValidation.Require(instanceId, id, bindingId, bindingArg, instanceFilter, incidentId, backupId, backupOption, cloneFrom, rehearsalId);

if (SecretInput.RefusalFor(args) is { } refusal)
{
    Console.Error.WriteLine($"steward: {refusal}");
    return ExitCodes.Usage;
}

var parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    foreach (var error in parsed.Errors)
    {
        Console.Error.WriteLine($"steward: {error.Message}");
    }

    Console.Error.WriteLine("Run 'steward --help' for usage.");
    return ExitCodes.Usage;
}

return await parsed.InvokeAsync();
