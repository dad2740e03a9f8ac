import datetime

from spie.core.exports import csv_response, neutralise


def test_formulas_are_neutralised():
    assert neutralise("=SUM(A1:A2)") == "'=SUM(A1:A2)"
    assert neutralise("+33 6 12") == "'+33 6 12"
    assert neutralise("-2") == "'-2"
    assert neutralise("@cmd") == "'@cmd"
    assert neutralise("Dupont") == "Dupont"
    assert neutralise(None) == ""
    assert neutralise(True) == "oui"
    assert neutralise(datetime.date(2026, 1, 31)) == "31/01/2026"
    assert neutralise(["a", "b"]) == "a, b"


def test_csv_response_streams_semicolon_utf8_with_bom():
    response = csv_response("liste", ["Nom", "Ville"], [["Éloïse", "Saint-Gaudens"], ["=1+1", "Muret"]])
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeffNom;Ville")
    assert "Éloïse;Saint-Gaudens" in body
    assert "'=1+1;Muret" in body
    assert response["Content-Disposition"].startswith('attachment; filename="liste-')
