// Print button of the diagnostic print view (no inline script: the CSP forbids it).
document.addEventListener("DOMContentLoaded", function () {
  var button = document.getElementById("imprimer");
  if (!button) return;
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
});
