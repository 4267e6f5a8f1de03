using System.Buffers;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Logging;
using Steward.Backup.Logging;

namespace Steward.Backup.Storage.S3;

/// <summary>
/// Streams an object as a multipart upload. Small objects (below one part) are sent with a single PutObject on
/// completion, so nothing is started before there is a full part.
/// </summary>
internal sealed class S3MultipartWriter(IAmazonS3 client, S3StorageOptions options, string objectKey, ILogger logger)
    : Pipeline.IStorageWriter
{
    private readonly List<PartETag> _parts = [];
    private readonly Queue<Task<PartETag>> _inFlight = new();
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(options.PartSize);
    private int _filled;
    private int _partNumber;
    private string? _uploadId;
    private bool _completed;
    private bool _aborted;

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        while (!data.IsEmpty)
        {
            var count = Math.Min(data.Length, options.PartSize - _filled);
            data.Span[..count].CopyTo(_buffer.AsSpan(_filled));
            _filled += count;
            data = data[count..];
            if (_filled == options.PartSize)
            {
                await StartPartAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    public async ValueTask CompleteAsync(CancellationToken cancellationToken)
    {
        if (_uploadId is null)
        {
            using var content = new MemoryStream(_buffer, 0, _filled, writable: false);
            await client.PutObjectAsync(new PutObjectRequest
            {
                BucketName = options.Bucket,
                Key = objectKey,
                InputStream = content,
                AutoCloseStream = false,
                UseChunkEncoding = false,
            }, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            if (_filled > 0)
            {
                await StartPartAsync(cancellationToken).ConfigureAwait(false);
            }

            while (_inFlight.Count > 0)
            {
                _parts.Add(await _inFlight.Dequeue().ConfigureAwait(false));
            }

            await client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
            {
                BucketName = options.Bucket,
                Key = objectKey,
                UploadId = _uploadId,
                PartETags = [.. _parts.OrderBy(p => p.PartNumber)],
            }, cancellationToken).ConfigureAwait(false);
        }

        _completed = true;
        ReturnBuffer();
        LogMessages.ObjectCommitted(logger, objectKey, (long)(_partNumber - 1) * options.PartSize + _filled, "s3");
    }

    private async ValueTask StartPartAsync(CancellationToken cancellationToken)
    {
        _uploadId ??= (await client.InitiateMultipartUploadAsync(
            new InitiateMultipartUploadRequest { BucketName = options.Bucket, Key = objectKey }, cancellationToken)
            .ConfigureAwait(false)).UploadId;
        var buffer = _buffer;
        var length = _filled;
        _inFlight.Enqueue(UploadPartAsync(buffer, length, ++_partNumber, cancellationToken));
        _buffer = ArrayPool<byte>.Shared.Rent(options.PartSize);
        _filled = 0;
        if (_inFlight.Count >= options.MaxConcurrentParts)
        {
            _parts.Add(await _inFlight.Dequeue().ConfigureAwait(false));
        }
    }

    private async Task<PartETag> UploadPartAsync(byte[] buffer, int length, int partNumber, CancellationToken cancellationToken)
    {
        try
        {
            using var content = new MemoryStream(buffer, 0, length, writable: false);
            var response = await client.UploadPartAsync(new UploadPartRequest
            {
                BucketName = options.Bucket,
                Key = objectKey,
                UploadId = _uploadId,
                PartNumber = partNumber,
                PartSize = length,
                InputStream = content,

                // Plain signed bodies: aws-chunked encoding is not understood by every S3-compatible server.
                UseChunkEncoding = false,
            }, cancellationToken).ConfigureAwait(false);
            return new PartETag(partNumber, response.ETag);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public async ValueTask AbortAsync(CancellationToken cancellationToken)
    {
        if (_completed || _aborted)
        {
            return;
        }

        _aborted = true;
        while (_inFlight.Count > 0)
        {
            try
            {
                await _inFlight.Dequeue().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is AmazonServiceException or HttpRequestException or OperationCanceledException or IOException)
            {
                // The upload is being discarded; its part failures no longer matter.
            }
        }

        ReturnBuffer();
        if (_uploadId is not null)
        {
            await client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest
            {
                BucketName = options.Bucket,
                Key = objectKey,
                UploadId = _uploadId,
            }, cancellationToken).ConfigureAwait(false);
        }

        LogMessages.ObjectAborted(logger, objectKey, "s3");
    }

    private void ReturnBuffer()
    {
        if (_buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await AbortAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is AmazonServiceException or HttpRequestException or IOException or OperationCanceledException)
        {
            // Best effort: a lifecycle rule on the bucket should expire abandoned multipart uploads.
            LogMessages.AbortFailed(logger, objectKey, "s3", ex);
        }
    }
}
