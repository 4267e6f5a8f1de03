using System.IO.Pipelines;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Steward.Backup.Filters;
using Steward.Backup.Integrity;
using Steward.Backup.Logging;
using Steward.Backup.Manifest;

namespace Steward.Backup.Pipeline;

/// <summary>
/// Restores a backup: reads its manifest, rebuilds the inverse filter chain from it, and streams storage → filters →
/// sink. Size and digest of the stored (SHA-256) and the plaintext bytes (<see cref="Integrity.ContentHasher"/>) are verified before the sink sees the end of its
/// input, so a sink never commits corrupt data. Build it with <see cref="RestorePipelineBuilder"/>.
/// </summary>
public sealed class RestorePipeline
{
    private readonly IBackupStorage _storage;
    private readonly IRestoreSink _sink;
    private readonly FilterRegistry _registry;
    private readonly RestoreKeyring _keyring;
    private readonly PipelineOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    internal RestorePipeline(IBackupStorage storage, IRestoreSink sink, FilterRegistry registry, RestoreKeyring keyring,
        PipelineOptions options, TimeProvider time, ILogger logger)
    {
        _storage = storage;
        _sink = sink;
        _registry = registry;
        _keyring = keyring;
        _options = options;
        _time = time;
        _logger = logger;
    }

    /// <summary>Runs the restore. Never throws for stage failures; the result names the failed stage.</summary>
    public async Task<PipelineResult> RunAsync(RestoreRequest request, IProgress<PipelineProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var startTimestamp = _time.GetTimestamp();
        using var group = new StageGroup(_logger, cancellationToken);

        BackupManifest manifest;
        IReadOnlyList<IBackupFilter> filters;
        try
        {
            manifest = await ManifestStore.ReadAsync(_storage, request.Key, cancellationToken).ConfigureAwait(false);
            filters = [.. manifest.Filters.Reverse().Select(spec => _registry.Create(spec, _keyring))];
        }
        catch (Exception ex)
        {
            group.Fail("manifest", StageKind.Storage, ex);
            return new PipelineResult { Key = request.Key, Failure = group.Failure, Duration = _time.GetElapsedTime(startTimestamp) };
        }

        if (manifest.PlaintextDigest.StartsWith(ContentHasher.ZstdFrames + ":", StringComparison.Ordinal) && filters is not [.., { ChecksumsItsInput: true }])
        {
            // Nothing would check the plaintext: the filter that checksums it is not the first of the chain.
            group.Fail("manifest", StageKind.Integrity, new BackupIntegrityException(
                $"The manifest says the zstd frames' checksums cover the plaintext, but the first filter of its chain is '{manifest.Filters.FirstOrDefault()?.Name ?? "none"}'."));
            return new PipelineResult { Key = request.Key, Failure = group.Failure, Duration = _time.GetElapsedTime(startTimestamp) };
        }

        LogMessages.RestoreStarted(_logger, request.Key, filters.Count, _sink.Name);
        // The sink's pipe is deeper: the sink consumes a step at a time, and the decompressor keeps producing meanwhile.
        var pipes = StagePipes.Create(filters.Count + 1, _options, lastBufferBytes: 4 * _options.BufferBytes);
        var tracker = new ProgressTracker(progress, _sink.Name, _options.ProgressIntervalBytes, manifest.StoredBytes);
        long storedBytes = 0;
        group.Start(_storage.Name, StageKind.Storage, null, pipes[0].Writer, async ct =>
            storedBytes = await ReadStoredAsync(request.Key, manifest, pipes[0].Writer, tracker, ct).ConfigureAwait(false));
        for (var i = 0; i < filters.Count; i++)
        {
            var filter = filters[i];
            var input = pipes[i].Reader;
            var output = pipes[i + 1].Writer;
            group.Start(filter.Name, StageKind.Filter, input, output, ct => filter.DecodeAsync(input, output, ct));
        }

        // The sink reads through the verifier: the plaintext is hashed beside the sink, and checked before the sink
        // sees the end of its input.
        using var plaintext = new VerifyingPipeReader(pipes[^1].Reader, manifest.PlaintextBytes, manifest.PlaintextDigest, tracker);
        group.Start(_sink.Name, StageKind.Sink, plaintext, null, ct => _sink.ReadFromAsync(plaintext, ct));
        await group.WhenAllAsync().ConfigureAwait(false);

        var result = new PipelineResult
        {
            Key = request.Key,
            Failure = group.Failure,
            PlaintextBytes = plaintext.Bytes,
            StoredBytes = storedBytes,
            PlaintextDigest = group.Failure is null ? manifest.PlaintextDigest : null,
            StoredSha256 = group.Failure is null ? manifest.StoredSha256 : null,
            Duration = _time.GetElapsedTime(startTimestamp),
            Manifest = manifest,
        };
        tracker.Report();
        LogMessages.RestoreFinished(_logger, request.Key, result.Succeeded, result.PlaintextBytes, result.Duration);
        return result;
    }

    private async ValueTask<long> ReadStoredAsync(string key, BackupManifest manifest, PipeWriter output,
        ProgressTracker tracker, CancellationToken ct)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long total = 0;
        var stream = await _storage.OpenReadAsync(key, ct).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            while (true)
            {
                var memory = output.GetMemory(_options.SegmentBytes);
                var read = await stream.ReadAsync(memory, ct).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                hash.AppendData(memory.Span[..read]);
                output.Advance(read);
                total += read;
                if (total > manifest.StoredBytes)
                {
                    throw new BackupIntegrityException(
                        $"Stored object '{key}' is larger than the {manifest.StoredBytes} bytes recorded in its manifest.");
                }

                tracker.AddStored(read);
                var flush = await output.FlushAsync(ct).ConfigureAwait(false);
                if (flush.IsCompleted)
                {
                    break;
                }
            }
        }

        if (total != manifest.StoredBytes)
        {
            throw new BackupIntegrityException(
                $"Stored object '{key}' is truncated: {total} of {manifest.StoredBytes} bytes recorded in its manifest.");
        }

        var digest = Convert.ToHexStringLower(hash.GetHashAndReset());
        if (!string.Equals(digest, manifest.StoredSha256, StringComparison.Ordinal))
        {
            throw new BackupIntegrityException(
                $"Stored object '{key}' does not match its manifest: SHA-256 {digest}, expected {manifest.StoredSha256}.");
        }

        return total;
    }
}
