using System.Buffers;
using System.IO.Pipelines;
using System.Security.Cryptography;
using Steward.Backup.Pipeline;

namespace Steward.Backup.Filters.Age;

/// <summary>
/// Authenticated encryption in the age v1 format to X25519 recipients; output decrypts with <c>age -d -i key.txt</c>
/// and files from <c>age -r</c> decrypt here. Only recipients are recorded in the manifest.
/// </summary>
internal sealed class AgeFilter : IBackupFilter
{
    public const string FilterName = "age";

    private readonly IReadOnlyList<AgeRecipient> _recipients;
    private readonly IReadOnlyList<AgeIdentity> _identities;

    public AgeFilter(IReadOnlyList<AgeRecipient> recipients, IReadOnlyList<AgeIdentity> identities)
    {
        _recipients = recipients;
        _identities = identities;
        Parameters = new Dictionary<string, string> { ["recipients"] = string.Join(',', recipients) };
    }

    public string Name => FilterName;

    public IReadOnlyDictionary<string, string> Parameters { get; }

    public static AgeFilter FromParameters(IReadOnlyDictionary<string, string> parameters, IReadOnlyList<AgeIdentity> identities)
    {
        var recipients = FilterParameters.Require(parameters, FilterName, "recipients")
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(AgeRecipient.Parse)
            .ToList();
        return new AgeFilter(recipients, identities);
    }

    public async ValueTask EncodeAsync(PipeReader input, PipeWriter output, CancellationToken cancellationToken)
    {
        if (_recipients.Count == 0)
        {
            throw new BackupException("age_no_recipient", "age: no recipients to encrypt to.");
        }

        var fileKey = RandomNumberGenerator.GetBytes(AgeKeys.FileKeySize);
        var nonce = RandomNumberGenerator.GetBytes(AgeKeys.PayloadNonceSize);
        await output.WriteAsync(AgeHeader.Encode(fileKey, _recipients), cancellationToken).ConfigureAwait(false);
        await output.WriteAsync(nonce, cancellationToken).ConfigureAwait(false);
        using var cipher = new AgeStreamCipher(AgeKeys.PayloadKey(fileKey, nonce));
        CryptographicOperations.ZeroMemory(fileKey);
        while (true)
        {
            var result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;

            // A full chunk is sealed as non-final only once a byte after it is seen; the final chunk carries a flag.
            while (buffer.Length > AgeStreamCipher.ChunkSize)
            {
                cipher.Seal(buffer.Slice(0, AgeStreamCipher.ChunkSize), last: false, output);
                buffer = buffer.Slice(AgeStreamCipher.ChunkSize);
            }

            if (result.IsCompleted)
            {
                cipher.Seal(buffer, last: true, output);
                input.AdvanceTo(buffer.End);
                return;
            }

            input.AdvanceTo(buffer.Start, buffer.End);
            await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DecodeAsync(PipeReader input, PipeWriter output, CancellationToken cancellationToken)
    {
        using var cipher = await ReadHeaderAsync(input, cancellationToken).ConfigureAwait(false);
        while (true)
        {
            var result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            while (buffer.Length > AgeStreamCipher.SealedChunkSize)
            {
                cipher.Open(buffer.Slice(0, AgeStreamCipher.SealedChunkSize), last: false, output);
                buffer = buffer.Slice(AgeStreamCipher.SealedChunkSize);
            }

            if (result.IsCompleted)
            {
                var emptyFinalAllowed = cipher.Chunks == 0;
                if (buffer.Length < AgeStreamCipher.TagSize || (buffer.Length == AgeStreamCipher.TagSize && !emptyFinalAllowed))
                {
                    throw new BackupIntegrityException("age: the payload is truncated.");
                }

                cipher.Open(buffer, last: true, output);
                input.AdvanceTo(buffer.End);
                return;
            }

            input.AdvanceTo(buffer.Start, buffer.End);
            await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async ValueTask<AgeStreamCipher> ReadHeaderAsync(PipeReader input, CancellationToken cancellationToken)
    {
        if (_identities.Count == 0)
        {
            throw new BackupException("age_no_identity", "age: no identity was supplied to decrypt this backup.");
        }

        while (true)
        {
            var result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            var end = AgeHeader.FindEnd(buffer);
            if (end >= 0 && buffer.Length >= end + AgeKeys.PayloadNonceSize)
            {
                var header = AgeHeader.Parse(buffer.Slice(0, end).ToArray());
                var nonce = buffer.Slice(end, AgeKeys.PayloadNonceSize).ToArray();
                input.AdvanceTo(buffer.GetPosition(end + AgeKeys.PayloadNonceSize));
                var fileKey = Unwrap(header);
                header.Verify(fileKey);
                var cipher = new AgeStreamCipher(AgeKeys.PayloadKey(fileKey, nonce));
                CryptographicOperations.ZeroMemory(fileKey);
                return cipher;
            }

            if (result.IsCompleted || (end < 0 && buffer.Length > AgeHeader.MaxSize))
            {
                throw new BackupIntegrityException("age: the input is not an age v1 file or its header is truncated.");
            }

            input.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private byte[] Unwrap(AgeHeader header)
    {
        foreach (var stanza in header.Stanzas)
        {
            foreach (var identity in _identities)
            {
                if (AgeKeys.TryUnwrap(stanza, identity) is { } fileKey)
                {
                    return fileKey;
                }
            }
        }

        throw new BackupException("age_no_identity",
            $"age: none of the {_identities.Count} supplied identities is a recipient of this backup.");
    }
}
