using System.Buffers;
using System.Globalization;
using System.Text;
using Microsoft.Win32.SafeHandles;
using Steward.Backup.Pipeline;

namespace Steward.Backup.Unpack;

/// <summary>
/// Unpacks a tar stream block by block as it arrives, writing each file's data straight from the pipe's buffers
/// (<c>pwritev</c>, no copy in between). Regular files and directories only: links, devices and paths leaving the
/// directory are refused. A malformed archive is not reported at once: the rest of the stream is drained first, so
/// when the cause is damage the pipeline's integrity check names it, and only a verified stream that is still not a
/// tar archive fails as <c>archive_invalid</c>.
/// </summary>
internal sealed class TarExtractor(UnpackDirectory target, Func<string, bool>? include = null) : IDisposable
{
    private const int MaxMetadataBytes = 1024 * 1024;
    private const long FlushAfterBytes = 8 * 1024 * 1024;

    private readonly HashSet<string> _directories = new(StringComparer.Ordinal) { "" };
    private readonly List<ReadOnlyMemory<byte>> _segments = [];
    private State _state = State.Header;
    private long _offset;
    private long _remaining;
    private long _skip;
    private int _zeroBlocks;
    private SafeFileHandle? _file;
    private long _fileOffset;
    private long _flushed;
    private TarHeader _entry;
    private string _path = "";
    private byte[]? _metadata;
    private int _metadataLength;
    private char _metadataType;
    private string? _longName;
    private Dictionary<string, string>? _pax;
    private InvalidDataException? _invalid;

    private enum State
    {
        Header,
        Data,
        Metadata,
        Skip,
        End,
        Drain,
    }

    public int Files { get; private set; }

    public long FileBytes { get; private set; }

    /// <summary>Consumes what it can of <paramref name="buffer"/>; returns how far it got (a partial header waits for more).</summary>
    public SequencePosition Consume(ReadOnlySequence<byte> buffer)
    {
        Span<byte> block = stackalloc byte[TarHeader.BlockSize];
        while (true)
        {
            switch (_state)
            {
                case State.Header:
                    if (buffer.Length < TarHeader.BlockSize)
                    {
                        return buffer.Start;
                    }

                    buffer.Slice(0, TarHeader.BlockSize).CopyTo(block);
                    try
                    {
                        OnHeader(block);
                    }
                    catch (InvalidDataException ex)
                    {
                        _invalid = ex;
                        _state = State.Drain;
                    }

                    buffer = Advance(buffer, TarHeader.BlockSize);
                    break;

                case State.Data:
                    if (_remaining == 0)
                    {
                        CloseFile();
                        continue;
                    }

                    if (buffer.IsEmpty)
                    {
                        return buffer.Start;
                    }

                    var data = buffer.Slice(0, Math.Min(_remaining, buffer.Length));
                    Write(data);
                    _remaining -= data.Length;
                    buffer = Advance(buffer, data.Length);
                    break;

                case State.Metadata:
                    if (_metadataLength == _metadata!.Length)
                    {
                        OnMetadata();
                        continue;
                    }

                    if (buffer.IsEmpty)
                    {
                        return buffer.Start;
                    }

                    var part = buffer.Slice(0, Math.Min(_metadata.Length - _metadataLength, buffer.Length));
                    part.CopyTo(_metadata.AsSpan(_metadataLength));
                    _metadataLength += (int)part.Length;
                    buffer = Advance(buffer, part.Length);
                    break;

                case State.Skip:
                    var skipped = Math.Min(_skip, buffer.Length);
                    _skip -= skipped;
                    buffer = Advance(buffer, skipped);
                    if (_skip == 0)
                    {
                        _state = State.Header;
                        continue;
                    }

                    return buffer.Start;

                default:
                    // After the end-of-archive blocks (tar pads to its record size) or after an invalid header.
                    _offset += buffer.Length;
                    return buffer.End;
            }
        }
    }

    /// <summary>Called once the whole (verified) stream was consumed: fails when it was not a complete archive.</summary>
    public void Finish()
    {
        if (_invalid is not null)
        {
            throw new BackupException("archive_invalid", "The backup is not a tar archive that can be unpacked: " + _invalid.Message);
        }

        if (_state is not (State.End or State.Header))
        {
            throw new BackupException("archive_invalid", $"The tar archive ends inside the entry {_entry.Name} (at byte {_offset}).");
        }
    }

    public void Dispose() => _file?.Dispose();

    private ReadOnlySequence<byte> Advance(ReadOnlySequence<byte> buffer, long count)
    {
        _offset += count;
        return buffer.Slice(count);
    }

    private void OnHeader(ReadOnlySpan<byte> block)
    {
        if (TarHeader.IsZero(block))
        {
            if (++_zeroBlocks == 2)
            {
                _state = State.End;
            }

            return;
        }

        _zeroBlocks = 0;
        var header = TarHeader.Parse(block, _offset);
        if (_pax is not null)
        {
            header = header with
            {
                Name = _pax.GetValueOrDefault("path", header.Name),
                Size = _pax.TryGetValue("size", out var size) ? long.Parse(size, CultureInfo.InvariantCulture) : header.Size,
            };
        }

        if (_longName is not null)
        {
            header = header with { Name = _longName };
        }

        _pax = null;
        _longName = null;
        _entry = header;
        switch (header.Type)
        {
            case TarHeader.PaxExtended or TarHeader.GnuLongName or TarHeader.GnuLongLink:
                if (header.Size > MaxMetadataBytes)
                {
                    throw new InvalidDataException($"the extended header at byte {_offset} claims {header.Size} bytes.");
                }

                _metadata = new byte[header.Size];
                _metadataLength = 0;
                _metadataType = header.Type;
                _state = State.Metadata;
                break;
            case TarHeader.PaxGlobal:
                Skip(header.Size + TarHeader.Padding(header.Size));
                break;
            case TarHeader.RegularFile or '7' when include is not null && !include(Relative(header.Name)):
                Skip(header.Size + TarHeader.Padding(header.Size));
                break;
            case TarHeader.RegularFile or '7':
                OpenFile(header);
                break;
            case TarHeader.Directory:
                CreateDirectory(Relative(header.Name), header.Mode);
                Skip(header.Size + TarHeader.Padding(header.Size));
                break;
            case '1' or '2':
                throw new InvalidDataException($"{header.Name} is a {(header.Type == '1' ? "hard" : "symbolic")} link; links are not unpacked (a data directory backup has none).");
            default:
                throw new InvalidDataException($"{header.Name} has tar entry type '{header.Type}'; only files and directories are unpacked.");
        }
    }

    private void OnMetadata()
    {
        var text = Encoding.UTF8.GetString(_metadata.AsSpan(0, _metadataLength));
        if (_metadataType == TarHeader.GnuLongName)
        {
            _longName = text.TrimEnd('\0');
        }
        else if (_metadataType == TarHeader.PaxExtended)
        {
            _pax = ParsePax(text);
        }

        _metadata = null;
        Skip(TarHeader.Padding(_metadataLength));
    }

    private Dictionary<string, string> ParsePax(string text)
    {
        // Records are "LENGTH KEY=VALUE\n", LENGTH counting the whole record in bytes.
        var records = new Dictionary<string, string>(StringComparer.Ordinal);
        var bytes = Encoding.UTF8.GetBytes(text);
        var position = 0;
        while (position < bytes.Length)
        {
            var space = Array.IndexOf(bytes, (byte)' ', position);
            if (space < 0 || !int.TryParse(bytes.AsSpan(position, space - position), NumberStyles.None, CultureInfo.InvariantCulture, out var length)
                || length <= space - position || position + length > bytes.Length)
            {
                throw new InvalidDataException($"the pax extended header before byte {_offset} is malformed.");
            }

            var record = Encoding.UTF8.GetString(bytes, space + 1, position + length - space - 2);
            var equals = record.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0)
            {
                records[record[..equals]] = record[(equals + 1)..];
            }

            position += length;
        }

        return records;
    }

    private void Skip(long count)
    {
        _skip = count;
        _state = count == 0 ? State.Header : State.Skip;
    }

    private void OpenFile(TarHeader header)
    {
        _path = Relative(header.Name);
        if (_path.Length == 0)
        {
            throw new InvalidDataException($"the file entry at byte {_offset} has no name.");
        }

        EnsureParent(_path);
        var full = Path.Combine(target.Root, _path);
        try
        {
            // CreateNew (O_EXCL): an entry never replaces anything, not even an earlier entry of the same name.
            _file = File.OpenHandle(full, FileMode.CreateNew, FileAccess.Write);
            target.Own(_file, _path);
            File.SetUnixFileMode(_file, Permissions(header.Mode));
        }
        catch (IOException ex) when (File.Exists(full) || Directory.Exists(full))
        {
            throw new InvalidDataException($"{header.Name} appears twice in the archive.", ex);
        }

        _fileOffset = 0;
        _flushed = 0;
        _remaining = header.Size;
        _state = State.Data;
        Files++;
    }

    private void Write(ReadOnlySequence<byte> data)
    {
        _segments.Clear();
        foreach (var segment in data)
        {
            _segments.Add(segment);
        }

        RandomAccess.Write(_file!, _segments, _fileOffset);
        _fileOffset += data.Length;
        FileBytes += data.Length;
        if (_fileOffset - _flushed >= FlushAfterBytes)
        {
            StartWriteback();
        }
    }

    /// <summary>
    /// Asks the kernel to start writing what was written since the last call back to disk, without waiting (what
    /// PostgreSQL's <c>checkpoint_flush_after</c> does): the disk works while the stream is still being decompressed,
    /// so the server's sync of the whole data directory at its start finds little left to write. Only a hint: a
    /// failure changes nothing (the server's own sync is what makes the data durable).
    /// </summary>
    private void StartWriteback()
    {
        UnpackNative.SyncFileRange(_file!.DangerousGetHandle(), _flushed, _fileOffset - _flushed, UnpackNative.SyncFileRangeWrite);
        _flushed = _fileOffset;
    }

    private void CloseFile()
    {
        if (_fileOffset > _flushed)
        {
            StartWriteback();
        }

        File.SetLastWriteTimeUtc(_file!, DateTime.UnixEpoch.AddSeconds(_entry.ModifiedSeconds));
        _file!.Dispose();
        _file = null;
        Skip(TarHeader.Padding(_entry.Size));
    }

    private void EnsureParent(string relative)
    {
        var slash = relative.LastIndexOf('/');
        if (slash > 0)
        {
            CreateDirectory(relative[..slash], mode: null);
        }
    }

    private void CreateDirectory(string relative, int? mode)
    {
        var full = Path.Combine(target.Root, relative);
        if (_directories.Contains(relative))
        {
            if (mode is { } explicitMode && relative.Length > 0)
            {
                File.SetUnixFileMode(full, Permissions(explicitMode));
            }

            return;
        }

        EnsureParent(relative);
        if (File.Exists(full))
        {
            throw new InvalidDataException($"{relative} is both a file and a directory in the archive.");
        }

        Directory.CreateDirectory(full, Permissions(mode ?? 0b111_000_000));
        target.Own(relative);
        _directories.Add(relative);
    }

    /// <summary>Permission bits only: set-user-id, set-group-id and sticky bits are never restored.</summary>
    private static UnixFileMode Permissions(int mode) => (UnixFileMode)(mode & 0b111_111_111);

    /// <summary>The entry's path relative to the directory; refuses absolute paths and any "..".</summary>
    private string Relative(string name)
    {
        if (name.StartsWith('/'))
        {
            throw new InvalidDataException($"{name} is an absolute path; entries must stay inside the directory.");
        }

        var parts = new List<string>();
        foreach (var part in name.Split('/'))
        {
            if (part is "" or ".")
            {
                continue;
            }

            if (part == ".." || part.Contains('\0', StringComparison.Ordinal))
            {
                throw new InvalidDataException($"{name} leaves the directory it is unpacked into.");
            }

            parts.Add(part);
        }

        return string.Join('/', parts);
    }
}
