/* claimkb: the site's only script, a static file on every page (the reader pages' security
   policy allows no inline script of the site's own). */

/* the pages are in English; Datasette's layout does not say so on every version */
if (!document.documentElement.lang) { document.documentElement.lang = "en"; }

document.addEventListener("DOMContentLoaded", function () {
  /* Datasette 1.0's small-screen "Choose columns" button calls its function from an inline
     onclick attribute, which the security policy does not run: call it from here */
  document.querySelectorAll("button.choose-columns-mobile").forEach(function (b) {
    b.addEventListener("click", function () {
      if (typeof window.openColumnChooser === "function") { window.openColumnChooser(); }
    });
  });

  /* reading view: highlight every passage of the record named in the address */
  function mark() {
    document.querySelectorAll(".ckb-target").forEach(function (el) {
      el.classList.remove("ckb-target");
    });
    var id = decodeURIComponent(location.hash.slice(1));
    if (!id) { return; }
    document.querySelectorAll(".ckb-hl").forEach(function (el) {
      if ((el.getAttribute("data-spans") || "").split(" ").indexOf(id) >= 0) {
        el.classList.add("ckb-target");
      }
    });
  }
  if (document.getElementById("ckb-text")) {
    window.addEventListener("hashchange", mark);
    mark();
  }
});
