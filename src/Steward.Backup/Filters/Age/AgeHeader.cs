using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using Steward.Backup.Pipeline;

namespace Steward.Backup.Filters.Age;

/// <summary>Writes and parses the textual age v1 header (https://age-encryption.org/v1).</summary>
internal sealed class AgeHeader
{
    public const string VersionLine = "age-encryption.org/v1";
    public const int MaxSize = 64 * 1024;
    private const int ColumnsPerLine = 64;

    private AgeHeader(IReadOnlyList<AgeStanza> stanzas, byte[] macInput, byte[] mac)
    {
        Stanzas = stanzas;
        MacInput = macInput;
        Mac = mac;
    }

    public IReadOnlyList<AgeStanza> Stanzas { get; }

    /// <summary>The header bytes the MAC covers: everything up to and including the <c>---</c>.</summary>
    public byte[] MacInput { get; }

    public byte[] Mac { get; }

    public static byte[] Encode(byte[] fileKey, IEnumerable<AgeRecipient> recipients)
    {
        var text = new StringBuilder(VersionLine).Append('\n');
        foreach (var stanza in recipients.Select(r => AgeKeys.Wrap(fileKey, r)))
        {
            text.Append("-> ").Append(stanza.Type);
            foreach (var argument in stanza.Arguments)
            {
                text.Append(' ').Append(argument);
            }

            text.Append('\n');
            var body = AgeBase64.Encode(stanza.Body);
            for (var i = 0; i < body.Length; i += ColumnsPerLine)
            {
                text.Append(body.AsSpan(i, Math.Min(ColumnsPerLine, body.Length - i))).Append('\n');
            }

            if (body.Length % ColumnsPerLine == 0)
            {
                text.Append('\n');
            }
        }

        text.Append("---");
        var macInput = Encoding.ASCII.GetBytes(text.ToString());
        var mac = AgeKeys.HeaderMac(fileKey, macInput);
        return [.. macInput, .. Encoding.ASCII.GetBytes(" " + AgeBase64.Encode(mac) + "\n")];
    }

    /// <summary>Finds the end of the header (the byte after the MAC line's newline) or returns -1 if more input is
    /// needed.</summary>
    public static long FindEnd(ReadOnlySequence<byte> buffer)
    {
        var reader = new SequenceReader<byte>(buffer);
        while (reader.TryReadTo(out ReadOnlySequence<byte> line, (byte)'\n'))
        {
            if (line.Length >= 4 && line.Slice(0, 4).ToArray().AsSpan().SequenceEqual("--- "u8))
            {
                return reader.Consumed;
            }
        }

        return -1;
    }

    /// <summary>Parses a complete header (as delimited by <see cref="FindEnd"/>).</summary>
    public static AgeHeader Parse(byte[] header)
    {
        var text = Encoding.ASCII.GetString(header);
        var lines = text.Split('\n');
        if (lines[0] != VersionLine)
        {
            throw Malformed("it does not start with 'age-encryption.org/v1'");
        }

        var stanzas = new List<AgeStanza>();
        var index = 1;
        var offset = lines[0].Length + 1;
        while (index < lines.Length && lines[index].StartsWith("-> ", StringComparison.Ordinal))
        {
            var arguments = lines[index][3..].Split(' ');
            offset += lines[index++].Length + 1;
            var body = new StringBuilder();
            while (true)
            {
                if (index >= lines.Length)
                {
                    throw Malformed("a stanza body is not terminated");
                }

                var line = lines[index++];
                offset += line.Length + 1;
                if (line.Length > ColumnsPerLine)
                {
                    throw Malformed("a stanza body line is too long");
                }

                body.Append(line);
                if (line.Length < ColumnsPerLine)
                {
                    break;
                }
            }

            var bytes = AgeBase64.TryDecode(body.ToString()) ?? throw Malformed("a stanza body is not valid base64");
            stanzas.Add(new AgeStanza(arguments[0], arguments[1..], bytes));
        }

        if (index >= lines.Length || !lines[index].StartsWith("--- ", StringComparison.Ordinal) || stanzas.Count == 0)
        {
            throw Malformed("the recipient stanzas or the MAC line are missing");
        }

        var mac = AgeBase64.TryDecode(lines[index][4..]);
        if (mac is not { Length: 32 })
        {
            throw Malformed("the header MAC is malformed");
        }

        return new AgeHeader(stanzas, header[..(offset + 3)], mac);
    }

    /// <summary>Verifies the header MAC with the unwrapped file key.</summary>
    public void Verify(ReadOnlySpan<byte> fileKey)
    {
        if (!CryptographicOperations.FixedTimeEquals(AgeKeys.HeaderMac(fileKey, MacInput), Mac))
        {
            throw new BackupIntegrityException("age: the header MAC does not match; the header was modified.");
        }
    }

    private static BackupIntegrityException Malformed(string reason) => new($"age: the header is malformed: {reason}.");
}
