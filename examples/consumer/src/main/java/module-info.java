/** An application that uses bp through its exported API only. */
module example.consumer {
    requires bp;
}
