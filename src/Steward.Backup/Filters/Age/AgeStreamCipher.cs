using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Security.Cryptography;
using Steward.Backup.Pipeline;

namespace Steward.Backup.Filters.Age;

/// <summary>
/// The age STREAM payload: 64 KiB plaintext chunks sealed with ChaCha20-Poly1305 under nonces of an 11-byte
/// big-endian counter and a final-chunk flag byte.
/// </summary>
internal sealed class AgeStreamCipher : IDisposable
{
    public const int ChunkSize = 64 * 1024;
    public const int TagSize = 16;
    public const int SealedChunkSize = ChunkSize + TagSize;

    private readonly ChaCha20Poly1305 _aead;
    private readonly byte[] _scratch = ArrayPool<byte>.Shared.Rent(SealedChunkSize);
    private readonly byte[] _nonce = new byte[12];
    private ulong _counter;

    public AgeStreamCipher(byte[] payloadKey)
    {
        _aead = new ChaCha20Poly1305(payloadKey);
        CryptographicOperations.ZeroMemory(payloadKey);
    }

    public long Chunks => (long)_counter;

    public void Seal(ReadOnlySequence<byte> plaintext, bool last, PipeWriter output)
    {
        var length = (int)plaintext.Length;
        var source = Contiguous(plaintext);
        var destination = output.GetSpan(length + TagSize);
        _aead.Encrypt(NextNonce(last), source, destination[..length], destination.Slice(length, TagSize));
        output.Advance(length + TagSize);
    }

    public void Open(ReadOnlySequence<byte> sealedChunk, bool last, PipeWriter output)
    {
        var length = (int)sealedChunk.Length - TagSize;
        var source = Contiguous(sealedChunk);
        var destination = output.GetSpan(Math.Max(length, 1));
        var chunk = _counter;
        try
        {
            _aead.Decrypt(NextNonce(last), source[..length], source.Slice(length, TagSize), destination[..length]);
        }
        catch (AuthenticationTagMismatchException ex)
        {
            throw new BackupIntegrityException(
                $"age: payload chunk {chunk} failed authentication; the data was modified or truncated.", ex);
        }

        output.Advance(length);
    }

    private ReadOnlySpan<byte> Contiguous(ReadOnlySequence<byte> data)
    {
        if (data.IsSingleSegment)
        {
            return data.FirstSpan;
        }

        data.CopyTo(_scratch);
        return _scratch.AsSpan(0, (int)data.Length);
    }

    private byte[] NextNonce(bool last)
    {
        BinaryPrimitives.WriteUInt64BigEndian(_nonce.AsSpan(3, 8), _counter++);
        _nonce[11] = last ? (byte)1 : (byte)0;
        return _nonce;
    }

    public void Dispose()
    {
        _aead.Dispose();
        ArrayPool<byte>.Shared.Return(_scratch, clearArray: true);
    }
}
