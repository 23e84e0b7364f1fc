// The printable invoice's Print button (no inline handler: the Content-Security-Policy
// allows this site's scripts only).
document.getElementById("print-invoice").addEventListener("click", () => window.print());
