using Steward.Engines.PostgreSql.Repair;

namespace Steward.Engines.Tests.PostgreSql;

/// <summary>
/// Steward's page check against pages PostgreSQL 15 wrote (the first three blocks of pg_class from a cluster created
/// with <c>initdb -k</c>): the checksum it computes is the one the server stored, and a flipped byte is caught.
/// </summary>
public sealed class DataPageTests
{
    private static byte[] Pages() => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "PostgreSql", "Data", "pg_class.3-blocks.bin"));

    [Fact]
    public void The_checksum_of_a_page_the_server_wrote_is_the_one_it_stored()
    {
        var pages = Pages();
        for (var block = 0; block < 3; block++)
        {
            var page = pages.AsSpan(block * DataPage.Size, DataPage.Size);
            DataPage.Checksum(page, block).ShouldBe(DataPage.StoredChecksum(page), $"block {block}");
            DataPage.Problem(page, block, checksums: true).ShouldBeNull();
        }
    }

    [Fact]
    public void A_flipped_byte_or_a_page_read_at_another_block_number_fails_the_check()
    {
        var page = Pages()[..DataPage.Size];
        DataPage.Problem(page, 1, checksums: true).ShouldNotBeNull("the block number is part of the checksum");
        page[5000] ^= 0xFF;
        DataPage.Problem(page, 0, checksums: true)!.ShouldContain("checksum");
        DataPage.Problem(page, 0, checksums: false).ShouldBeNull("without checksums only the header is checked");
    }

    [Fact]
    public void The_vector_checksum_equals_the_lane_by_lane_one_on_any_bytes_and_block()
    {
        var random = new Random(20261201);
        var page = new byte[DataPage.Size];
        foreach (var block in new long[] { 0, 1, 7, 131071, 131072, 4_000_000_000 })
        {
            random.NextBytes(page);
            var checksum = DataPage.Checksum(page, block);
            checksum.ShouldBe(DataPage.ChecksumScalar(page, block), $"block {block}");
            page[8] ^= 0xFF;
            DataPage.Checksum(page, block).ShouldBe(checksum, "pd_checksum itself counts as zero");
            page[12] ^= 0x01;
            DataPage.Checksum(page, block).ShouldNotBe(checksum, "the word after it counts");
        }

        var real = Pages()[..DataPage.Size];
        DataPage.ChecksumScalar(real, 0).ShouldBe(DataPage.StoredChecksum(real));
    }

    [Fact]
    public void A_new_page_must_be_all_zeroes()
    {
        var page = new byte[DataPage.Size];
        DataPage.Problem(page, 7, checksums: true).ShouldBeNull();
        page[100] = 1;
        DataPage.Problem(page, 7, checksums: true).ShouldNotBeNull();
    }

    [Fact]
    public void Block_numbers_count_across_1_GiB_segments()
    {
        DataPage.ForkBlock("16390", 5).ShouldBe(5);
        DataPage.ForkBlock("16390.2", 5).ShouldBe((2 * 131072) + 5);
        DataPage.ForkBlock("16390_vm", 0).ShouldBe(0);
    }

    [Fact]
    public void Pg_controldata_output_is_read_for_the_state_and_the_last_checkpoint()
    {
        var control = ControlData.Parse("""
            pg_control version number:            1300
            Database cluster state:               shut down
            Latest checkpoint location:           0/17414F0
            Latest checkpoint's REDO location:    0/17414F0
            Latest checkpoint's TimeLineID:       1
            Data page checksum version:           1
            """);
        control.CleanlyShutDown.ShouldBeTrue();
        control.CheckpointLsn.ShouldBe(0x17414F0);
        control.Timeline.ShouldBe(1);
        control.Checksums.ShouldBeTrue();
        ControlData.Parse("Database cluster state: in production\nLatest checkpoint location: 0/1\nLatest checkpoint's REDO location: 0/1\nLatest checkpoint's TimeLineID: 2\nData page checksum version: 0\n").CleanlyShutDown.ShouldBeFalse();
    }
}
