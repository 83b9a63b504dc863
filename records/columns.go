package records

// Column is one canonical input column of a domain (inputs.md) with the
// headers that name it in English, French and Spanish, best first: when
// two header cells of a table name the same column, the one earlier in
// this list wins. The column's name is always read as a header too.
type Column struct {
	Name    string
	Headers []string
}

// The columns of each domain, as ingest recognises them and as the
// templates write them (each template header is one of these spellings).

var countryHeaders = []string{"country", "member state", "state", "pays", "país", "ref_area", "iso3", "country code", "ref area", "code pays", "código de país"}

var ratificationColumns = []Column{
	{Name: "country", Headers: countryHeaders},
	{Name: "instrument", Headers: []string{"instrument", "convention", "convention no", "c no", "convenio", "n°", "no", "instrument code", "convention number"}},
	{Name: "ratification_date", Headers: []string{"ratification_date", "date", "ratification date", "date of ratification", "registration date", "date de ratification", "date d'enregistrement", "fecha de ratificación", "fecha de registro", "date of registration"}},
	{Name: "status", Headers: []string{"status", "current status", "état actuel", "statut", "estado", "situación", "état"}},
	{Name: "denunciation_date", Headers: []string{"denunciation_date", "denunciation date", "date of denunciation", "date de dénonciation", "fecha de denuncia"}},
	{Name: "note", Headers: []string{"note", "notes", "remarks", "comment", "comments", "observation", "observations", "nota", "notas"}},
}

var socialProtectionColumns = []Column{
	{Name: "country", Headers: countryHeaders},
	{Name: "year", Headers: []string{"year", "time", "année", "año", "periodo", "period", "période", "annee"}},
	{Name: "value", Headers: []string{"value", "obs_value", "coverage", "coverage (%)", "valeur", "valor", "taux de couverture", "coverage rate", "cobertura"}},
	// classif1 before indicator: in an ILOSTAT bulk file the indicator
	// column is the dataset code and classif1 the series.
	{Name: "series", Headers: []string{"series", "classif1", "contingency", "série", "serie", "indicator"}},
	{Name: "sex", Headers: []string{"sex", "sexe", "sexo"}},
	{Name: "population", Headers: []string{"population", "classif2", "migratory status", "migrant status", "población", "statut migratoire", "condición migratoria"}},
	{Name: "obs_status", Headers: []string{"obs_status", "flag", "status", "observation status"}},
	{Name: "source", Headers: []string{"source", "source note", "fuente"}},
	{Name: "note", Headers: []string{"note", "notes", "nota", "notas", "remarks", "comment"}},
}

var blmaColumns = func() []Column {
	cols := []Column{
		{Name: "agreement_id", Headers: []string{"agreement_id", "id", "agreement id", "reference", "ref", "référence", "referencia"}},
		{Name: "title", Headers: []string{"title", "agreement", "name", "titre", "título", "agreement title", "intitulé"}},
		{Name: "type", Headers: []string{"type", "agreement type", "instrument type", "tipo", "type d'accord", "tipo de acuerdo"}},
		{Name: "origin", Headers: []string{"origin", "origin country", "country of origin", "sending country", "pays d'origine", "país de origen"}},
		{Name: "destination", Headers: []string{"destination", "destination country", "receiving country", "pays de destination", "país de destino", "country of destination"}},
		{Name: "parties", Headers: []string{"parties", "signatories", "parties signataires", "partes", "countries"}},
		{Name: "date_signed", Headers: []string{"date_signed", "date signed", "signature date", "signed", "date de signature", "fecha de firma", "signing date", "date of signature"}},
		{Name: "date_in_force", Headers: []string{"date_in_force", "entry into force", "date in force", "entrée en vigueur", "entrada en vigor", "date of entry into force"}},
		{Name: "date_end", Headers: []string{"date_end", "end date", "expiry", "terminated", "date de fin", "fecha de término", "expiry date", "end"}},
		{Name: "status", Headers: []string{"status", "statut", "estado"}},
		{Name: "sectors", Headers: []string{"sectors", "sector", "secteurs", "sectores", "secteur"}},
	}
	for _, p := range Provisions() {
		cols = append(cols, Column{Name: p.Flag, Headers: append([]string{p.Flag, p.Title}, p.Headers...)})
	}
	return cols
}()
