using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Steward.Engines.Redis.Replication;

/// <summary>
/// Reads the auxiliary fields at the head of an RDB snapshot (<c>redis-ver</c>, <c>repl-id</c>, <c>repl-offset</c>,
/// …): the opcode 0xFA followed by two strings, repeated until the first database selector. Only the string
/// encodings Redis uses for these fields are understood (plain lengths and small integers).
/// </summary>
internal static class RdbAux
{
    private const byte AuxOpcode = 0xFA;

    public static IReadOnlyDictionary<string, string> Read(string path)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new BinaryReader(stream);
        try
        {
            if (Encoding.ASCII.GetString(reader.ReadBytes(5)) != "REDIS")
            {
                return fields;
            }

            reader.ReadBytes(4); // version
            while (reader.ReadByte() == AuxOpcode)
            {
                var key = ReadString(reader);
                var value = ReadString(reader);
                if (key is null || value is null)
                {
                    break;
                }

                fields[key] = value;
            }
        }
        catch (EndOfStreamException)
        {
            // A truncated file: what was read is all there is.
        }

        return fields;
    }

    private static string? ReadString(BinaryReader reader)
    {
        var first = reader.ReadByte();
        switch (first >> 6)
        {
            case 0:
                return Encoding.UTF8.GetString(reader.ReadBytes(first & 0x3F));
            case 1:
                return Encoding.UTF8.GetString(reader.ReadBytes(((first & 0x3F) << 8) | reader.ReadByte()));
            case 2 when first == 0x80:
                return Encoding.UTF8.GetString(reader.ReadBytes((int)BinaryPrimitives.ReadUInt32BigEndian(reader.ReadBytes(4))));
            case 3:
                return (first & 0x3F) switch
                {
                    0 => ((sbyte)reader.ReadByte()).ToString(CultureInfo.InvariantCulture),
                    1 => reader.ReadInt16().ToString(CultureInfo.InvariantCulture),
                    2 => reader.ReadInt32().ToString(CultureInfo.InvariantCulture),
                    _ => null, // compressed: not used for these fields
                };
            default:
                return null;
        }
    }
}
