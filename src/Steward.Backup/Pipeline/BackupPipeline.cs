using System.IO.Pipelines;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Steward.Backup.Integrity;
using Steward.Backup.Logging;
using Steward.Backup.Manifest;

namespace Steward.Backup.Pipeline;

/// <summary>
/// A backup workflow: one source, an ordered filter chain and one storage, run concurrently as a stream with bounded
/// buffers. Build it with <see cref="BackupPipelineBuilder"/>.
/// </summary>
public sealed class BackupPipeline
{
    private readonly IBackupSource _source;
    private readonly IReadOnlyList<IBackupFilter> _filters;
    private readonly IBackupStorage _storage;
    private readonly PipelineOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    internal BackupPipeline(IBackupSource source, IReadOnlyList<IBackupFilter> filters, IBackupStorage storage,
        PipelineOptions options, TimeProvider time, ILogger logger)
    {
        _source = source;
        _filters = filters;
        _storage = storage;
        _options = options;
        _time = time;
        _logger = logger;
    }

    /// <summary>The filter chain in backup order, as it will be recorded in the manifest.</summary>
    public IReadOnlyList<FilterSpec> FilterChain => [.. _filters.Select(f => new FilterSpec(f.Name, f.Parameters))];

    /// <summary>
    /// Runs the backup. Never throws for stage failures: the result names the failed stage and no partial object is
    /// left visible. On success the data object and then its manifest are durable.
    /// </summary>
    public async Task<PipelineResult> RunAsync(BackupRequest request, IProgress<PipelineProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var key = request.DataKey;
        var startedAt = _time.GetUtcNow();
        var startTimestamp = _time.GetTimestamp();
        LogMessages.BackupStarted(_logger, key, _source.Name, _filters.Count, _storage.Name);

        var pipes = StagePipes.Create(_filters.Count + 1, _options);
        var tracker = new ProgressTracker(progress, _storage.Name, _options.ProgressIntervalBytes, null);
        // The source's side counts (and reports progress); the consuming side hashes, on its own thread.
        var plaintext = new CountingPipeWriter(pipes[0].Writer, tracker);
        var byFrames = request.PlaintextCheckedByFrames && _filters.Count > 0 && _filters[0].ChecksumsItsInput;
        using var digest = byFrames ? null : new DigestingPipeReader(pipes[0].Reader);
        PipeReader InputOf(int stage) => stage == 0 && digest is not null ? digest : pipes[stage].Reader;
        var stored = new StoredCounter();
        using var group = new StageGroup(_logger, cancellationToken);

        group.Start(_source.Name, StageKind.Source, null, pipes[0].Writer, async ct =>
        {
            await _source.WriteToAsync(plaintext, ct).ConfigureAwait(false);
            if (plaintext.Bytes == 0)
            {
                throw new BackupException("source_empty", $"Source '{_source.Name}' produced no data.");
            }
        });
        for (var i = 0; i < _filters.Count; i++)
        {
            var filter = _filters[i];
            var input = InputOf(i);
            var output = pipes[i + 1].Writer;
            group.Start(filter.Name, StageKind.Filter, input, output, ct => filter.EncodeAsync(input, output, ct));
        }

        var last = InputOf(pipes.Length - 1);
        group.Start(_storage.Name, StageKind.Storage, last, null,
            ct => StoreAsync(last, key, stored, tracker, group, ct));

        await group.WhenAllAsync().ConfigureAwait(false);

        BackupManifest? manifest = null;
        if (group.Failure is null && digest is not null && digest.Bytes != plaintext.Bytes)
        {
            group.Fail("digest", StageKind.Integrity, new BackupIntegrityException(
                $"The plaintext digest covers {digest.Bytes} bytes but the source produced {plaintext.Bytes}."));
        }

        if (group.Failure is null)
        {
            manifest = new BackupManifest
            {
                BackupId = request.BackupId,
                InstanceId = request.InstanceId,
                Engine = request.Engine,
                ServerVersion = request.ServerVersion,
                Source = _source.Name,
                DataKey = key,
                Filters = FilterChain,
                PlaintextBytes = plaintext.Bytes,
                StoredBytes = stored.Bytes,
                PlaintextDigest = digest?.Finish() ?? ContentHasher.CompressionFrames,
                StoredSha256 = stored.Sha256!,
                StartedAt = startedAt,
                CompletedAt = _time.GetUtcNow(),
                Properties = MergeProperties(request.Properties),
            };
            manifest = await WriteManifestAsync(manifest, group, cancellationToken).ConfigureAwait(false);
        }

        var result = new PipelineResult
        {
            Key = key,
            Failure = group.Failure,
            PlaintextBytes = plaintext.Bytes,
            StoredBytes = stored.Bytes,
            PlaintextDigest = manifest?.PlaintextDigest,
            StoredSha256 = stored.Sha256,
            Duration = _time.GetElapsedTime(startTimestamp),
            Manifest = manifest,
        };
        tracker.Report();
        LogMessages.BackupFinished(_logger, key, result.Succeeded, result.PlaintextBytes, result.StoredBytes, result.Duration);
        return result;
    }

    private async ValueTask StoreAsync(PipeReader input, string key, StoredCounter stored, ProgressTracker tracker,
        StageGroup group, CancellationToken ct)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var writer = await _storage.OpenWriteAsync(key, ct).ConfigureAwait(false);
        await using (writer.ConfigureAwait(false))
        {
            while (true)
            {
                var result = await input.ReadAsync(ct).ConfigureAwait(false);
                foreach (var segment in result.Buffer)
                {
                    hash.AppendData(segment.Span);
                    await writer.WriteAsync(segment, ct).ConfigureAwait(false);
                    stored.Bytes += segment.Length;
                    tracker.AddStored(segment.Length);
                }

                input.AdvanceTo(result.Buffer.End);

                if (result.IsCompleted)
                {
                    break;
                }
            }

            // Every upstream stage completed cleanly to get here; the check guards against a failure racing in.
            if (group.Failure is not null)
            {
                return;
            }

            await writer.CompleteAsync(ct).ConfigureAwait(false);
            stored.Sha256 = Convert.ToHexStringLower(hash.GetHashAndReset());
        }
    }

    private async Task<BackupManifest?> WriteManifestAsync(BackupManifest manifest, StageGroup group, CancellationToken ct)
    {
        try
        {
            await ManifestStore.WriteAsync(_storage, manifest, ct).ConfigureAwait(false);
            return manifest;
        }
        catch (Exception ex)
        {
            group.Fail("manifest", StageKind.Storage, ex);
            try
            {
                // A data object without its manifest cannot be restored; do not leave it looking like a backup.
                await _storage.DeleteAsync(manifest.DataKey, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception deleteError)
            {
                LogMessages.CleanupFailed(_logger, manifest.DataKey, deleteError);
            }

            return null;
        }
    }

    private Dictionary<string, string> MergeProperties(IReadOnlyDictionary<string, string> requested)
    {
        var merged = new Dictionary<string, string>(requested, StringComparer.Ordinal);
        if (_source is IManifestContributor contributor)
        {
            foreach (var (name, value) in contributor.ManifestProperties)
            {
                merged[name] = value;
            }
        }

        return merged;
    }

    private sealed class StoredCounter
    {
        public long Bytes;
        public string? Sha256;
    }
}
