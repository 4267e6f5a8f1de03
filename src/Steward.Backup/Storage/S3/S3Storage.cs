using System.Net;
using System.Runtime.CompilerServices;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Steward.Backup.Pipeline;

namespace Steward.Backup.Storage.S3;

/// <summary>
/// Stores objects in an S3-compatible bucket. Writes stream through multipart uploads with bounded part buffers and
/// become visible only on CompleteMultipartUpload; an aborted write calls AbortMultipartUpload.
/// </summary>
public sealed class S3Storage : IBackupStorage, IIncompleteWriteCleanup, IDisposable
{
    private readonly S3StorageOptions _options;
    private readonly AmazonS3Client _client;
    private readonly ILogger _logger;

    /// <summary>Creates the storage and its S3 client.</summary>
    public S3Storage(S3StorageOptions options, ILogger<S3Storage>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        var config = new AmazonS3Config
        {
            ServiceURL = options.ServiceUrl.ToString(),
            ForcePathStyle = options.ForcePathStyle,
            AuthenticationRegion = options.Region,
            MaxErrorRetry = options.MaxErrorRetry,
            Timeout = options.RequestTimeout,
        };
        _client = new AmazonS3Client(new BasicAWSCredentials(options.AccessKey, options.SecretKey), config);
    }

    /// <inheritdoc />
    public string Name => "s3";

    internal string Bucket => _options.Bucket;

    /// <inheritdoc />
    public ValueTask<IStorageWriter> OpenWriteAsync(string key, CancellationToken cancellationToken) =>
        ValueTask.FromResult<IStorageWriter>(new S3MultipartWriter(_client, _options, ObjectKey(key), _logger));

    /// <inheritdoc />
    public async ValueTask<Stream> OpenReadAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            var response = await _client.GetObjectAsync(_options.Bucket, ObjectKey(key), cancellationToken).ConfigureAwait(false);
            return response.ResponseStream;
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            throw new FileNotFoundException($"No object '{key}' in bucket '{_options.Bucket}'.", ex);
        }
    }

    /// <inheritdoc />
    public async ValueTask<bool> ExistsAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            await _client.GetObjectMetadataAsync(_options.Bucket, ObjectKey(key), cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }
    }

    /// <inheritdoc />
    public async ValueTask DeleteAsync(string key, CancellationToken cancellationToken) =>
        await _client.DeleteObjectAsync(_options.Bucket, ObjectKey(key), cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    public async IAsyncEnumerable<StorageObject> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        StorageKey.ValidatePrefix(prefix);
        var request = new ListObjectsV2Request { BucketName = _options.Bucket, Prefix = _options.KeyPrefix + prefix };
        ListObjectsV2Response response;
        do
        {
            response = await _client.ListObjectsV2Async(request, cancellationToken).ConfigureAwait(false);
            foreach (var item in response.S3Objects ?? [])
            {
                yield return new StorageObject(item.Key[_options.KeyPrefix.Length..], item.Size, item.LastModified.ToUniversalTime());
            }

            request.ContinuationToken = response.NextContinuationToken;
        }
        while (response.IsTruncated);
    }

    /// <inheritdoc />
    public async ValueTask RemoveIncompleteWritesAsync(string key, CancellationToken cancellationToken)
    {
        var objectKey = ObjectKey(key);
        var uploads = await _client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = _options.Bucket, Prefix = objectKey }, cancellationToken).ConfigureAwait(false);
        foreach (var upload in uploads.MultipartUploads ?? [])
        {
            if (upload.Key == objectKey)
            {
                await _client.AbortMultipartUploadAsync(_options.Bucket, upload.Key, upload.UploadId, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private string ObjectKey(string key) => _options.KeyPrefix + StorageKey.Validate(key);

    /// <summary>Disposes the S3 client.</summary>
    public void Dispose() => _client.Dispose();
}
