using System.Text;
using Steward.Backup.Engines;
using Steward.Backup.Manifest;
using Steward.Backup.Pipeline;
using Steward.Backup.Unpack;
using Steward.Backups;
using Steward.Instances;

namespace Steward.Server.Backups;

/// <summary>Incremental backups: what a new one builds on, and the earlier links a restore reads.</summary>
internal sealed partial class BackupService
{
    /// <summary>A chain is at most this many backups (the full one and its incrementals): the next is full again, so a restore reads a bounded number of backups.</summary>
    public const int MaxChainLength = 7;

    /// <summary>The engine facts of a backup's manifest; empty when it has none.</summary>
    public static IReadOnlyDictionary<string, string> ManifestProperties(BackupRecord backup) =>
        backup.ManifestJson is { } json ? ManifestStore.Deserialize(Encoding.UTF8.GetBytes(json)).Properties : new Dictionary<string, string>();

    /// <summary>The ids of the earlier backups <paramref name="backup"/> needs to be restored (its chain, without itself).</summary>
    public static IReadOnlyList<string> Parents(BackupRecord backup) =>
        backup.Kind == "incremental" && BackupChain.From(ManifestProperties(backup)) is { } chain ? chain.Links.Where(l => l != backup.Id).ToList() : [];

    /// <summary>409 when a succeeded incremental backup builds on <paramref name="backup"/>: deleting it would leave that one unrestorable.</summary>
    private async Task RequireNoDependentsAsync(BackupRecord backup, CancellationToken cancellationToken)
    {
        var dependents = (await store.ListBackupsAsync(backup.InstanceId, cancellationToken))
            .Where(b => b.State == BackupState.Succeeded && Parents(b).Contains(backup.Id)).Select(b => b.Id).Order(StringComparer.Ordinal).ToList();
        if (dependents.Count > 0)
        {
            throw new Steward.Errors.StewardException(Steward.Errors.ErrorCode.Conflict, $"backup {backup.Id} is part of the chain of incremental backup{(dependents.Count > 1 ? "s" : string.Empty)} {string.Join(", ", dependents)}; delete {(dependents.Count > 1 ? "those" : "that one")} first (newest first)");
        }
    }

    /// <summary>Streams <paramref name="linkId"/>, an earlier backup of <paramref name="backup"/>'s chain, into <paramref name="sink"/>.</summary>
    public async Task<PipelineResult> RestoreLinkAsync(BackupRecord backup, string linkId, IRestoreSink sink, IProgress<PipelineProgress>? report, CancellationToken cancellationToken)
    {
        var link = await store.GetBackupAsync(linkId, cancellationToken);
        if (link is not { State: BackupState.Succeeded } || link.InstanceId != backup.InstanceId || !Parents(backup).Contains(linkId))
        {
            throw new RestoreFailedException(new PipelineFailure("chain", StageKind.Storage,
                $"backup {backup.Id} builds on backup {linkId}, which is {(link is null ? "gone" : link.State.ToString().ToLowerInvariant())}: the chain is broken and cannot be restored", "chain_broken"));
        }

        return await RestoreAsync(link, sink, report, cancellationToken);
    }

    /// <summary>The backup a new <paramref name="method"/> backup of <paramref name="instance"/> builds on; null for a full one.</summary>
    private async Task<BackupLink?> ParentAsync(ServiceInstance instance, IBackupMethod method, CancellationToken cancellationToken)
    {
        var latest = (await store.ListBackupsAsync(instance.Id, cancellationToken))
            .Where(b => b is { State: BackupState.Succeeded, ManifestJson: not null } && b.Kind == method.Kind)
            .MaxBy(b => b.CompletedAt);
        if (latest is null || Parents(latest).Count + 1 >= MaxChainLength)
        {
            return null;
        }

        return new BackupLink(latest.Id, latest.StartedAt, ManifestProperties(latest));
    }
}
