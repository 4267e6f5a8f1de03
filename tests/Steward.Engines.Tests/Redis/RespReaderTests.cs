using System.Text;
using Steward.Engines.Redis.Resp;

namespace Steward.Engines.Tests.Redis;

public sealed class RespReaderTests
{
    private static Task<RespValue> ReadAsync(string wire) =>
        new RespReader(new MemoryStream(Encoding.UTF8.GetBytes(wire))).ReadAsync(default).AsTask();

    [Fact]
    public async Task Simple_strings_errors_and_integers_are_parsed()
    {
        (await ReadAsync("+OK\r\n")).ShouldBe(new RespValue.SimpleString("OK"));
        (await ReadAsync("-WRONGPASS invalid\r\n")).ShouldBe(new RespValue.Error("WRONGPASS invalid"));
        (await ReadAsync(":-42\r\n")).ShouldBe(new RespValue.Integer(-42));
    }

    [Fact]
    public async Task Bulk_strings_keep_binary_content_and_null_is_distinct_from_empty()
    {
        (await ReadAsync("$6\r\nab\r\ncd\r\n")).AsText().ShouldBe("ab\r\ncd");
        ((RespValue.BulkString)await ReadAsync("$-1\r\n")).Value.ShouldBeNull();
        ((RespValue.BulkString)await ReadAsync("$0\r\n\r\n")).Value.ShouldBe([]);
    }

    [Fact]
    public async Task Nested_arrays_are_parsed()
    {
        var value = (RespValue.Array)await ReadAsync("*2\r\n$3\r\nfoo\r\n*1\r\n:1\r\n");
        value.Items!.Count.ShouldBe(2);
        value.Items[0].AsText().ShouldBe("foo");
        ((RespValue.Array)value.Items[1]).Items![0].ShouldBe(new RespValue.Integer(1));
        ((RespValue.Array)await ReadAsync("*-1\r\n")).Items.ShouldBeNull();
    }

    [Theory]
    [InlineData("$5\r\nab")]
    [InlineData("+OK")]
    [InlineData("+OK\r")]
    [InlineData("*2\r\n:1\r\n")]
    [InlineData("")]
    public async Task A_truncated_reply_is_a_protocol_error_not_a_hang(string wire) =>
        (await Should.ThrowAsync<RespException>(() => ReadAsync(wire))).Message.ShouldBe("connection closed by the server");

    [Theory]
    [InlineData("?what\r\n", "unexpected reply type '?'")]
    [InlineData(":12x\r\n", "invalid number '12x'")]
    [InlineData("$3\r\nabcd\r\n", "bulk string not terminated by CRLF")]
    [InlineData("+OK\rX", "line not terminated by CRLF")]
    public async Task Malformed_replies_are_reported_precisely(string wire, string message) =>
        (await Should.ThrowAsync<RespException>(() => ReadAsync(wire))).Message.ShouldBe(message);
}
