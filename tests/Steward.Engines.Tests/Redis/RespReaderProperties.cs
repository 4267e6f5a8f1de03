using System.Globalization;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Steward.Engines.Redis.Resp;

namespace Steward.Engines.Tests.Redis;

/// <summary>
/// The RESP reader faces whatever a server (or something posing as one on the instance's port) sends: it either
/// returns a value or fails with <see cref="RespException"/>, and what it reads is exactly what was written.
/// </summary>
public sealed class RespReaderProperties
{
    private const string Printable = " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~\t";

    /// <summary>Pieces of RESP, so random inputs look like replies and reach the deep branches.</summary>
    private static readonly string[] Tokens = ["+", "-", ":", "$", "*", "\r\n", "\r", "\n", "0", "1", "2", "-1", "5", "12x", "OK", "\0", "\u00ff", " "];

    [Property(MaxTest = 500)]
    public void Arbitrary_bytes_give_a_value_or_a_RespException(byte[] wire) => ShouldReadOrRefuse(wire);

    [Property(MaxTest = 1000)]
    public Property Reply_like_bytes_give_a_value_or_a_RespException() =>
        Prop.ForAll(Arb.From(Gen.Elements(Tokens).ArrayOf().Select(t => Encoding.Latin1.GetBytes(string.Concat(t)))), (byte[] wire) => ShouldReadOrRefuse(wire));

    [Property(MaxTest = 300)]
    public Property Every_reply_reads_back_as_written() =>
        Prop.ForAll(Arb.From(Value(3)), (RespValue value) =>
        {
            var wire = Encode(value);
            var read = new RespReader(new MemoryStream(wire)).ReadAsync(default).AsTask().GetAwaiter().GetResult();
            Encode(read).ShouldBe(wire);
        });

    [Property(MaxTest = 300)]
    public Property Every_strict_prefix_of_a_reply_is_a_RespException_not_a_hang() =>
        Prop.ForAll(Arb.From(Value(2).SelectMany(v => Gen.Choose(0, Encode(v).Length - 1).Select(n => Encode(v)[..n]))), (byte[] prefix) =>
        {
            var ex = Should.Throw<RespException>(() => new RespReader(new MemoryStream(prefix)).ReadAsync(default).AsTask().GetAwaiter().GetResult());
            ex.Message.ShouldNotBeNullOrWhiteSpace();
        });

    private static void ShouldReadOrRefuse(byte[] wire)
    {
        try
        {
            new RespReader(new MemoryStream(wire)).ReadAsync(default).AsTask().GetAwaiter().GetResult();
        }
        catch (RespException)
        {
            // The documented refusal.
        }
    }

    private static Gen<RespValue> Value(int depth)
    {
        var text = Gen.Elements(Printable.ToCharArray()).ArrayOf().Select(c => new string(c));
        var bytes = Gen.Choose(0, 255).Select(b => (byte)b).ArrayOf();
        var leaves = new List<Gen<RespValue>>
        {
            text.Select(s => (RespValue)new RespValue.SimpleString(s)),
            text.Select(s => (RespValue)new RespValue.Error(s)),
            Gen.Choose(int.MinValue, int.MaxValue).Select(n => (RespValue)new RespValue.Integer(n * 4_000_000_000L)),
            Gen.Elements(long.MinValue, long.MaxValue, 0L).Select(n => (RespValue)new RespValue.Integer(n)),
            bytes.Select(b => (RespValue)new RespValue.BulkString(b)),
            Gen.Constant((RespValue)new RespValue.BulkString(null)),
            Gen.Constant((RespValue)new RespValue.Array(null)),
        };
        if (depth > 0)
        {
            leaves.Add(Value(depth - 1).ArrayOf().Select(items => (RespValue)new RespValue.Array(items)));
        }

        return Gen.OneOf(leaves);
    }

    private static byte[] Encode(RespValue value)
    {
        var output = new MemoryStream();
        Write(output, value);
        return output.ToArray();
    }

    private static void Write(MemoryStream output, RespValue value)
    {
        void Text(string s) => output.Write(Encoding.Latin1.GetBytes(s));
        switch (value)
        {
            case RespValue.SimpleString s:
                Text($"+{s.Value}\r\n");
                break;
            case RespValue.Error e:
                Text($"-{e.Message}\r\n");
                break;
            case RespValue.Integer i:
                Text($":{i.Value.ToString(CultureInfo.InvariantCulture)}\r\n");
                break;
            case RespValue.BulkString { Value: null }:
                Text("$-1\r\n");
                break;
            case RespValue.BulkString b:
                Text($"${b.Value!.Length}\r\n");
                output.Write(b.Value);
                Text("\r\n");
                break;
            case RespValue.Array { Items: null }:
                Text("*-1\r\n");
                break;
            case RespValue.Array a:
                Text($"*{a.Items!.Count}\r\n");
                foreach (var item in a.Items)
                {
                    Write(output, item);
                }

                break;
        }
    }
}
